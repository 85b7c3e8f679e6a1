"""The Flask application factory: one app composing every blueprint."""

import logging
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine

from keys.store import KeyStore
from passport.db import make_engine
from passport.settings import Settings

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


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the web platform.

    :param test_config: Flask settings that override the defaults; a
        ``"SETTINGS"`` entry replaces the settings read from the environment.
    """
    app = Flask(__name__)
    config = dict(test_config or {})
    settings = config.pop("SETTINGS", None) or Settings.from_env()
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(config)
    app.extensions["platform"] = Platform(settings)

    csrf.init_app(app)
    _register_blueprints(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from accounts.views import bp as accounts_bp
    from accounts.views import init_login
    from verifier.api import bp as verifier_api_bp
    from verifier.hr import bp as hr_bp
    from wallet_web.views import bp as wallet_bp

    init_login(app)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(wallet_bp)
    app.register_blueprint(hr_bp)
    app.register_blueprint(verifier_api_bp)
    # The VC-API endpoints take JSON from other systems, which carry no
    # session cookie and so need no CSRF token; they change no data.
    csrf.exempt(verifier_api_bp)


def platform(app: Flask | None = None) -> Platform:
    """Return the :class:`Platform` of ``app`` (default: the current app)."""
    from flask import current_app

    return (app or current_app).extensions["platform"]  # type: ignore[no-any-return]
