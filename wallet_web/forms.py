"""Forms of the wallet's sharing pages; Flask-WTF adds a CSRF token to each."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, widgets
from wtforms.validators import InputRequired


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """A multiple choice drawn as one checkbox per option."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ShareForm(FlaskForm):  # type: ignore[misc]
    """The credentials to put behind a new one-time share link.

    The choices are the wallet's own credential public ids, set by the view,
    so an id from another wallet fails validation.
    """

    credentials = MultiCheckboxField(
        "Credentials to share",
        validators=[InputRequired("Pick at least one credential to share.")],
    )


class DeleteCredentialForm(FlaskForm):  # type: ignore[misc]
    """Confirmation that a credential is to be deleted from the wallet."""

    confirm = BooleanField(
        "I understand that this removes the credential from my wallet",
        validators=[InputRequired("Tick the box to confirm the deletion.")],
    )
