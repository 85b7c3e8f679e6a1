"""The HR verification form; Flask-WTF adds its CSRF token."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileSize
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from verifier.pipeline import MAX_DOCUMENT_BYTES
from verifier.qr_image import MAX_IMAGE_BYTES


class VerifyCredentialForm(FlaskForm):  # type: ignore[misc]
    """A pasted QR payload or credential JSON, or a picture of a QR code."""

    payload = TextAreaField(
        "Paste the QR code's text or the credential JSON",
        validators=[Optional(), Length(max=MAX_DOCUMENT_BYTES)],
        render_kw={"spellcheck": "false", "autocapitalize": "none", "rows": 6},
    )
    image = FileField(
        "Or upload a picture of the QR code",
        validators=[
            FileSize(
                max_size=MAX_IMAGE_BYTES,
                message=f"The image must be at most {MAX_IMAGE_BYTES // 2**20} MB.",
            )
        ],
        render_kw={"accept": "image/png,image/jpeg,image/gif,image/webp,image/bmp"},
    )
