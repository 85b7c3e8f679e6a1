"""Sign-in state and role checks for the platform's pages and APIs.

Other packages protect a view with :func:`require_role` and read the
signed-in account with :func:`current_account`::

    from accounts.auth import current_account, require_role
    from accounts.roles import Role

    @bp.get("/verify")
    @require_role(Role.HR)
    def verify():
        account = current_account()
        ...

An anonymous request to a page is redirected to the sign-in page, and one to
an API gets 401 with a JSON body; a signed-in account without the role gets
403. The browser's session cookie holds only a random session token; the
session itself lives in the ``account_session`` table, so signing out ends
it on the server too.
"""

import functools
import hashlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar, cast

from flask import (
    Flask,
    abort,
    current_app,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask import (
    session as flask_session,
)
from flask_login import LoginManager, UserMixin, login_user
from flask_login import current_user as _current_user
from sqlmodel import Session

from accounts.models import UserAccount
from accounts.service import AccountView, account_view, load_session, start_session

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Flask config key listing the blueprints that serve JSON to other systems;
#: their unauthenticated and error responses are JSON, not pages.
JSON_BLUEPRINTS_CONFIG = "PASSPORT_JSON_BLUEPRINTS"

login_manager = LoginManager()


class _PlatformServices(Protocol):
    def session(self) -> AbstractContextManager[Session]: ...


class SignedInAccount(UserMixin):  # type: ignore[misc]
    """The Flask-Login user: an account read model and its session token."""

    def __init__(self, account: AccountView, session_token: str) -> None:
        self.account = account
        self.session_token = session_token

    def get_id(self) -> str:
        """Return the session token that Flask-Login keeps in the cookie."""
        return self.session_token


def database_session() -> AbstractContextManager[Session]:
    """Return a database session of the current app that commits on success."""
    services = cast(_PlatformServices, current_app.extensions["platform"])
    return services.session()


@login_manager.user_loader  # type: ignore[untyped-decorator]
def _load_user(session_token: str) -> SignedInAccount | None:
    with database_session() as session:
        account = load_session(session, session_token)
    if account is None:
        return None
    return SignedInAccount(account, session_token)


def init_login(app: Flask) -> None:
    """Set up sign-in and the session cookie for ``app``."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.unauthorized_handler(_unauthenticated)
    app.config.setdefault(JSON_BLUEPRINTS_CONFIG, ())


def sign_in_account(db: Session, account: UserAccount) -> None:
    """Start a server-side session for ``account`` and sign this browser in.

    The Flask session is cleared first, so that a session id planted before
    sign-in (session fixation) is worth nothing after it.
    """
    assert account.id is not None
    token = start_session(db, account.id)
    view = account_view(db, account)
    flask_session.clear()
    login_user(SignedInAccount(view, token))
    flask_session.permanent = True


def current_account() -> AccountView | None:
    """Return the signed-in account of this request, or None."""
    user = _current_user
    if user is None or not user.is_authenticated:
        return None
    return cast(SignedInAccount, user._get_current_object()).account


def current_session_token() -> str | None:
    """Return the session token of this request's sign-in, or None."""
    user = _current_user
    if user is None or not user.is_authenticated:
        return None
    return cast(SignedInAccount, user._get_current_object()).session_token


def wants_json() -> bool:
    """Return whether this request should get JSON rather than a page.

    True for the blueprints listed under :data:`JSON_BLUEPRINTS_CONFIG`, for
    requests with a JSON body, and for clients that accept JSON but not HTML.
    """
    if request.blueprint in current_app.config.get(JSON_BLUEPRINTS_CONFIG, ()):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _unauthenticated() -> Any:
    if wants_json():
        response = jsonify(
            error="unauthenticated",
            message="Sign in first: this API needs a signed-in session.",
        )
        response.status_code = 401
        return response
    return redirect(url_for("accounts.sign_in", next=_request_path()))


def _request_path() -> str:
    query = request.query_string.decode("ascii", "replace")
    return request.path + (f"?{query}" if query else "")


def require_role(*roles: str) -> Callable[[F], F]:
    """Let a view run only for a signed-in account holding one of ``roles``.

    With no roles, any signed-in account may use the view. Anonymous
    requests are sent to sign in (401 JSON for APIs); accounts without the
    role get 403.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            account = current_account()
            if account is None:
                return _unauthenticated()
            if roles and not account.has_role(*roles):
                logger.warning(
                    "access denied account=%s endpoint=%s", account.id, request.endpoint
                )
                if wants_json():
                    response = jsonify(
                        error="forbidden",
                        message="This account does not have a role that may use "
                        "this API.",
                    )
                    response.status_code = 403
                    return response
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def client_address() -> str:
    """Return the client's network address as the server sees it.

    NOTE: behind a reverse proxy this is the proxy's address, so every
    client shares one sign-in failure limit until the deployment wraps the
    app in werkzeug's ProxyFix with the proxy's trusted hop count.
    """
    return request.remote_addr or "unknown"


def throttle_secret() -> bytes:
    """Return the key for the hashes of addresses in the sign-in failure table."""
    secret_key = str(current_app.config["SECRET_KEY"])
    return hashlib.sha256(b"sign-in throttle\x00" + secret_key.encode()).digest()
