"""Platform settings, read from the environment with working demo defaults.

``PASSPORT_DATA_DIR``
    Folder for every piece of local state (the SQLite database by default,
    the generated key-store passphrase, uploaded files). Default: ``./var``.
``DATABASE_URL``
    An SQLAlchemy URL. Default: SQLite at ``$PASSPORT_DATA_DIR/passport.db``.
    PostgreSQL is ``postgresql+psycopg://user@host:5432/dbname``.
``PASSPORT_KEY_PASSPHRASE``
    Passphrase that encrypts private keys at rest. When unset, a random one
    is generated once into ``$PASSPORT_DATA_DIR/key-passphrase`` (mode 0600),
    which suits a demo but not production, where it belongs in a secret store.
``PASSPORT_SECRET_KEY``
    Flask session and CSRF signing key. When unset, generated once into
    ``$PASSPORT_DATA_DIR/secret-key`` (mode 0600).
``PASSPORT_PUBLIC_URL``
    The platform's external base URL, used as the HR verifier's domain.
    Default: ``http://127.0.0.1:5000``.
``PASSPORT_ALLOW_HTTP_FETCH``
    ``1`` lets verification fetch status lists and ``did:web`` documents over
    plain HTTP as well as HTTPS, for local testing only. Default: ``0``.
``PASSPORT_FETCH_TIMEOUT``
    Seconds a verification waits for one status list or DID document before
    the check fails. Default: ``5``.
``PASSPORT_FETCH_MAX_BYTES``
    Largest status list or DID document fetched, in bytes. Default: 1 MiB.
``PASSPORT_OFFLINE``
    ``1`` makes verification fetch nothing: status lists come from the cache
    of earlier fetches, with their age shown. Default: ``0``.
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
DEFAULT_FETCH_TIMEOUT_SECONDS = 5.0
DEFAULT_FETCH_MAX_BYTES = 1024 * 1024


def make_private_dir(path: Path) -> None:
    """Create ``path`` and its parents, readable by this user only.

    The data folder contains the SQLite database (names, email addresses,
    password hashes), import reports and uploaded files, which the files'
    default mode (0644) would leave readable by every local user. A folder
    that already exists keeps its mode, so an operator's choice stands.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _secret_from_file(path: Path) -> str:
    """Return the secret stored at ``path``, creating it on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    make_private_dir(path.parent)
    value = secrets.token_urlsafe(32)
    # O_EXCL makes two processes starting at once agree on one value: the
    # loser of the race reads the winner's file.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    return value


def data_dir_from_env(env: dict[str, str]) -> Path:
    """Return the data folder that ``PASSPORT_DATA_DIR`` names (default ``./var``)."""
    return Path(env.get("PASSPORT_DATA_DIR") or "var").resolve()


def database_url_from_env(env: dict[str, str]) -> str:
    """Return ``DATABASE_URL``, or the SQLite file in the data folder."""
    return (
        env.get("DATABASE_URL") or f"sqlite:///{data_dir_from_env(env) / 'passport.db'}"
    )


def public_url_from_env(env: dict[str, str]) -> str:
    """Return ``PASSPORT_PUBLIC_URL`` without a trailing slash, or the default."""
    return (env.get("PASSPORT_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/")


def _flag(env: dict[str, str], name: str) -> bool:
    """Return the boolean environment variable ``name`` (``1``/``0``, unset: 0)."""
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{name}={value!r} is not a boolean; set it to 1 or 0.")


def _positive_number(env: dict[str, str], name: str, default: float) -> float:
    """Return the positive number in environment variable ``name``, or ``default``."""
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0 or number == float("inf"):
        raise ValueError(
            f"{name}={value!r} is not a positive number; set it to a number "
            "greater than 0, or unset it for the default."
        )
    return number


@dataclass(frozen=True)
class FetchSettings:
    """Limits and mode of fetching the status lists and DID documents of
    issuers outside this platform."""

    allow_http: bool = False
    timeout: float = DEFAULT_FETCH_TIMEOUT_SECONDS
    max_bytes: int = DEFAULT_FETCH_MAX_BYTES
    offline: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "FetchSettings":
        """Read the ``PASSPORT_*FETCH*`` and ``PASSPORT_OFFLINE`` variables.

        :raises ValueError: for a flag or number that cannot be read, naming
            the variable and its value.
        """
        env = dict(os.environ if environ is None else environ)
        return cls(
            allow_http=_flag(env, "PASSPORT_ALLOW_HTTP_FETCH"),
            timeout=_positive_number(
                env, "PASSPORT_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT_SECONDS
            ),
            max_bytes=int(
                _positive_number(
                    env, "PASSPORT_FETCH_MAX_BYTES", DEFAULT_FETCH_MAX_BYTES
                )
            ),
            offline=_flag(env, "PASSPORT_OFFLINE"),
        )


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    data_dir: Path
    database_url: str
    key_passphrase: str
    secret_key: str
    public_url: str
    fetch: FetchSettings = FetchSettings()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Build settings from ``environ`` (default: ``os.environ``).

        :raises ValueError: for a flag or number that cannot be read, naming
            the variable and its value.
        """
        env = dict(os.environ if environ is None else environ)
        data_dir = data_dir_from_env(env)
        database_url = database_url_from_env(env)
        passphrase = env.get("PASSPORT_KEY_PASSPHRASE") or _secret_from_file(
            data_dir / "key-passphrase"
        )
        secret_key = env.get("PASSPORT_SECRET_KEY") or _secret_from_file(
            data_dir / "secret-key"
        )
        public_url = public_url_from_env(env)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            key_passphrase=passphrase,
            secret_key=secret_key,
            public_url=public_url,
            fetch=FetchSettings.from_env(env),
        )
