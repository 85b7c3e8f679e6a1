"""Forms of the issuer's pages; Flask-WTF adds a CSRF token to each."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
)

from issuer.delivery import CLAIM_CODE_LIFETIME
from issuer.status_lists import ACTIONS, MAX_REASON_LENGTH

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""The largest export accepted through the page (about 300,000 rows); larger
exports go through ``passport issue``."""


class UploadExportForm(FlaskForm):  # type: ignore[misc]
    """An ESR-style training export to import."""

    export = FileField(
        "Training export (CSV)",
        validators=[
            FileRequired("Choose the export file to upload."),
            FileSize(
                max_size=MAX_UPLOAD_BYTES,
                message=f"The file must be at most {MAX_UPLOAD_BYTES // 2**20} MB; "
                "import larger files with 'passport issue'.",
            ),
        ],
        render_kw={"accept": ".csv,text/csv"},
    )
    as_of = DateField(
        "Reference date (later completion dates are rejected)",
        validators=[Optional()],
    )


class StatusChangeForm(FlaskForm):  # type: ignore[misc]
    """Revoke, suspend or reinstate one credential, with the reason."""

    credential_id = HiddenField(validators=[DataRequired(), Length(max=200)])
    action = HiddenField(validators=[AnyOf(ACTIONS)])
    reason = StringField(
        "Reason",
        validators=[
            DataRequired("Give the reason; it is kept in the audit log."),
            Length(max=MAX_REASON_LENGTH),
        ],
    )


class RotateKeyForm(FlaskForm):  # type: ignore[misc]
    """An empty form: rotating the key is a POST with a CSRF token."""


class CompromiseForm(FlaskForm):  # type: ignore[misc]
    """Mark one key compromised from an instant."""

    method_id = SelectField("Key", validators=[DataRequired()])
    since = StringField(
        "Compromised since (UTC, such as 2026-04-01T09:30:00Z)",
        validators=[DataRequired("Give the instant from which the key is untrusted.")],
    )
    reason = StringField(
        "Reason",
        validators=[DataRequired("Give the reason."), Length(max=MAX_REASON_LENGTH)],
    )


class ClaimCodeForm(FlaskForm):  # type: ignore[misc]
    """Create a claim code for a staff member."""

    employee_number = StringField(
        "Employee number",
        validators=[DataRequired("Give the employee number."), Length(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
    days = IntegerField(
        "Days the code stays valid",
        default=CLAIM_CODE_LIFETIME.days,
        validators=[NumberRange(min=1, max=90)],
    )


class ClaimForm(FlaskForm):  # type: ignore[misc]
    """A claim code, with a new account's details when no one is signed in."""

    code = StringField(
        "Claim code",
        validators=[DataRequired("Type the claim code."), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    email = EmailField(
        "Email address for your new account",
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Choose a password (at least 12 characters)",
        validators=[Optional(), Length(min=12, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Type the password again",
        validators=[EqualTo("password", "The passwords differ.")],
        render_kw={"autocomplete": "new-password"},
    )


class OfferDecisionForm(FlaskForm):  # type: ignore[misc]
    """Accept or decline one offered credential."""

    credential_id = HiddenField(validators=[DataRequired(), Length(max=200)])
    decision = HiddenField(validators=[AnyOf(("accept", "decline"))])
