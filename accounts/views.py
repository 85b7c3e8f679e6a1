"""Sign-in and sign-out pages."""

import logging
import unicodedata
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import logout_user

from accounts.auth import (
    client_address,
    current_account,
    current_session_token,
    database_session,
    init_login,
    sign_in_account,
    throttle_secret,
)
from accounts.forms import SignInForm, SignOutForm
from accounts.service import (
    InvalidCredentials,
    SignInThrottled,
    authenticate,
    end_session,
)

__all__ = ["bp", "init_login"]

logger = logging.getLogger(__name__)

bp = Blueprint("accounts", __name__, template_folder="templates")


def safe_next(target: str | None) -> str:
    """Return ``target`` if it is a path on this site, else the home page.

    Only a path starting with a single slash is followed, so a link cannot
    send someone who signs in to another site. A path with a control
    character is not followed either, because a line break cannot go into the
    Location header.
    """
    if not target or any(unicodedata.category(char) == "Cc" for char in target):
        return url_for("home")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("home")
    if target.startswith("//") or "\\" in target:
        return url_for("home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | str | tuple[str, int]:
    """Show the sign-in form; on a valid POST, start a session."""
    next_path = safe_next(request.args.get("next"))
    if current_account() is not None and request.method == "GET":
        return redirect(next_path)  # type: ignore[return-value]

    form = SignInForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/sign_in.html", form=form), status

    # The failure is caught inside the transaction so that it is committed
    # and counts towards the sign-in limits.
    failure: SignInThrottled | InvalidCredentials | None = None
    with database_session() as db:
        try:
            account = authenticate(
                db,
                form.email.data,
                form.password.data,
                client_address=client_address(),
                secret=throttle_secret(),
            )
        except (SignInThrottled, InvalidCredentials) as error:
            failure = error
        else:
            sign_in_account(db, account)
    if failure is not None:
        status = 429 if isinstance(failure, SignInThrottled) else 401
        page = render_template("accounts/sign_in.html", form=form, error=str(failure))
        return page, status
    return redirect(next_path)  # type: ignore[return-value]


@bp.post("/sign-out")
def sign_out() -> Response:
    """End the session on the server and clear the browser's cookie."""
    form = SignOutForm()
    if form.validate_on_submit():
        token = current_session_token()
        if token is not None:
            with database_session() as db:
                end_session(db, token)
        logout_user()
        session.clear()
        flash("You have signed out.", "info")
    return redirect(url_for("accounts.sign_in"))  # type: ignore[return-value]
