"""The Flask application factory: one app composing every blueprint."""

import importlib
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from keys.store import KeyStore
from passport.db import make_engine, session_scope
from passport.settings import Settings
from verifier.registry import IssuerRegistry

if TYPE_CHECKING:
    from passport.verification import VerificationSources

logger = logging.getLogger(__name__)

csrf = CSRFProtect()

# Uploaded QR images and posted documents above this size are refused with
# 413 before any parsing.
MAX_REQUEST_BYTES = 2 * 1024 * 1024


class Platform:
    """Process-wide services the views use: settings, engine and key store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings.database_url)
        self.key_store = KeyStore(settings.key_passphrase)
        self._verification: VerificationSources | None = None

    def session(self) -> AbstractContextManager[Session]:
        """Return a database session that commits on success, for views."""
        return session_scope(self.engine)

    def issuer_registry(self) -> IssuerRegistry:
        """Return the partnership's issuers as the database lists them now."""
        from passport.verification import registry_from_engine

        return registry_from_engine(self.engine)

    def verification_sources(self) -> dict[str, Any]:
        """Return the verification options: the trust registry, the
        platform's own did:web documents and status lists from its database,
        and a fenced fetcher for other issuers' documents."""
        from passport.verification import VerificationSources

        if self._verification is None:
            self._verification = VerificationSources(self.engine, self.settings.fetch)
        return self._verification.sources()

    def dispose(self) -> None:
        """Close the engine's pooled connections and the fetcher's."""
        if self._verification is not None:
            self._verification.close()
            self._verification = None
        self.engine.dispose()


@contextmanager
def command_platform(settings: Settings | None = None) -> Iterator[Platform]:
    """Yield the platform services for one command-line run, then close them.

    :param settings: default: read from the environment.
    """
    services = Platform(settings or Settings.from_env())
    try:
        yield services
    finally:
        services.dispose()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the web platform.

    :param test_config: Flask settings that override the defaults; a
        ``"SETTINGS"`` entry replaces the settings read from the environment.
    """
    app = Flask(__name__)
    config = dict(test_config or {})
    settings = config.pop("SETTINGS", None) or Settings.from_env()
    secure = settings.public_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        # The cookie is sent only over HTTPS when the platform is served over
        # it; the __Host- prefix then also pins it to this host and path.
        SESSION_COOKIE_NAME="__Host-passport" if secure else "passport",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_DURATION=timedelta(0),
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    app.extensions["platform"] = Platform(settings)

    csrf.init_app(app)
    _register_blueprints(app)
    return app


# Blueprints of the feature packages, as "module:attribute". Each package
# adds its own line; the app root imports them only when an app is created.
BLUEPRINTS = (
    "accounts.views:bp",
    "wallet_web.views:bp",
    "wallet_web.sharing_views:bp",
    "wallet_web.share_api:bp",
    "verifier.hr:bp",
    "verifier.hr_passport:bp",
    "verifier.hr_profiles:bp",
    "verifier.api:bp",
    "verifier.registry_admin:bp",
    "issuer.public:bp",
    "issuer.api:bp",
    "issuer.admin:bp",
    "issuer.claim_views:bp",
    "workflows.views:bp",
    "workflows.api:bp",
)

# Blueprints serving JSON APIs to other systems. Their callers authenticate
# with bearer tokens or not at all and carry no session cookie, so CSRF
# tokens do not apply; every endpoint that changes data checks its token.
CSRF_EXEMPT_BLUEPRINTS = (
    "verifier.api:bp",
    "issuer.api:bp",
    "wallet_web.share_api:bp",
)


def _import_object(path: str) -> Any:
    module_name, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _register_blueprints(app: Flask) -> None:
    from accounts.auth import JSON_BLUEPRINTS_CONFIG, init_login
    from passport.web import init_web

    init_login(app)
    init_web(app)
    for path in BLUEPRINTS:
        app.register_blueprint(_import_object(path))
    json_blueprints = []
    for path in CSRF_EXEMPT_BLUEPRINTS:
        blueprint = _import_object(path)
        csrf.exempt(blueprint)
        json_blueprints.append(blueprint.name)
    app.config[JSON_BLUEPRINTS_CONFIG] = tuple(json_blueprints)


def platform(app: Flask | None = None) -> Platform:
    """Return the :class:`Platform` of ``app`` (default: the current app)."""
    from flask import current_app

    return (app or current_app).extensions["platform"]  # type: ignore[no-any-return]
