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
"""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


def _secret_from_file(path: Path) -> str:
    """Return the secret stored at ``path``, creating it on first use."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
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


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one process."""

    data_dir: Path
    database_url: str
    key_passphrase: str
    secret_key: str
    public_url: str

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Build settings from ``environ`` (default: ``os.environ``)."""
        env = dict(os.environ if environ is None else environ)
        data_dir = data_dir_from_env(env)
        database_url = database_url_from_env(env)
        passphrase = env.get("PASSPORT_KEY_PASSPHRASE") or _secret_from_file(
            data_dir / "key-passphrase"
        )
        secret_key = env.get("PASSPORT_SECRET_KEY") or _secret_from_file(
            data_dir / "secret-key"
        )
        public_url = (env.get("PASSPORT_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip(
            "/"
        )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            key_passphrase=passphrase,
            secret_key=secret_key,
            public_url=public_url,
        )
