"""Forms of the sign-in pages; Flask-WTF adds a CSRF token to each."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):  # type: ignore[misc]
    """Email address and password."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    # Argon2 accepts any length; the limit stops huge bodies being hashed.
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class SignOutForm(FlaskForm):  # type: ignore[misc]
    """An empty form: signing out is a POST with a CSRF token."""
