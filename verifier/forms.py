"""The HR pages' forms; Flask-WTF adds a CSRF token to each."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from verifier.pipeline import MAX_DOCUMENT_BYTES
from verifier.qr_image import MAX_IMAGE_BYTES


def qr_image_field() -> FileField:
    """Return the upload field for a picture of a QR code, size-limited."""
    return FileField(
        "Or upload a picture of the QR code",
        validators=[
            FileSize(
                max_size=MAX_IMAGE_BYTES,
                message=f"The image must be at most {MAX_IMAGE_BYTES // 2**20} MB.",
            )
        ],
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp,image/bmp"},
    )


class VerifyCredentialForm(FlaskForm):  # type: ignore[misc]
    """A pasted QR payload or credential JSON, or a picture of a QR code."""

    payload = TextAreaField(
        "Paste the QR code's text or the credential JSON",
        validators=[Optional(), Length(max=MAX_DOCUMENT_BYTES)],
        render_kw={"spellcheck": "false", "autocapitalize": "none", "rows": 6},
    )
    image = qr_image_field()


class ReceivePassportForm(FlaskForm):  # type: ignore[misc]
    """A scanned QR code's text, as a handheld scanner types it, or its picture.

    The text is usually a share link; a single credential's QR payload is
    accepted too and verified offline.
    """

    scanned = StringField(
        "Share link or QR code text",
        validators=[Optional(), Length(max=MAX_DOCUMENT_BYTES)],
        render_kw={
            "spellcheck": "false",
            "autocapitalize": "none",
            "autocomplete": "off",
            "autofocus": True,
        },
    )
    image = qr_image_field()


class DecisionForm(FlaskForm):  # type: ignore[misc]
    """HR's decision on each required subject; the choices are read by the view,
    one ``decision-<CODE>`` field per report row."""

    profile = HiddenField(validators=[DataRequired(), Length(max=64)])
    note = TextAreaField(
        "Note (optional)",
        validators=[Optional(), Length(max=2000)],
        render_kw={"rows": 3},
    )


class IssueRecordsForm(FlaskForm):  # type: ignore[misc]
    """Accepted subjects to issue as the organisation's own records."""

    profile = HiddenField(validators=[DataRequired(), Length(max=64)])
    subjects = SelectMultipleField(
        "Subjects to issue",
        validators=[InputRequired("Pick at least one accepted subject to issue.")],
    )


class ProfileForm(FlaskForm):  # type: ignore[misc]
    """A role requirement profile as an HR administrator edits it."""

    slug = StringField(
        "Short name for addresses",
        validators=[DataRequired("Give the profile a short name."), Length(max=64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(
        "Role", validators=[DataRequired("Give the role's name."), Length(max=200)]
    )
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=2000)], render_kw={"rows": 3}
    )
    requirements = TextAreaField(
        "Required subject codes, separated by spaces or commas",
        validators=[DataRequired("List at least one subject code."), Length(max=2000)],
        render_kw={"rows": 3, "spellcheck": "false", "autocapitalize": "characters"},
    )
