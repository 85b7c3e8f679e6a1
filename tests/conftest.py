"""Fixtures shared by every test package: real databases and settings.

SQLite tests get a fresh file under ``tmp_path``. PostgreSQL tests get a
fresh database on the server at ``PASSPORT_TEST_POSTGRES`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), created for the test
and dropped after it, so parallel runs and earlier failures never share
state. Every schema comes from the Alembic migrations, as in production.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from passport.db import make_engine, upgrade_database
from passport.settings import Settings

# Fixtures of a small seeded web platform: seeded, app, client.
pytest_plugins = ["tests.web_support"]

# The maintenance database the test databases are created from.
POSTGRES_ADMIN_URL = os.environ.get(
    "PASSPORT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TEST_PASSPHRASE = "test passphrase, not a secret"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's platform settings out of every test."""
    for name in (
        "DATABASE_URL",
        "PASSPORT_DATA_DIR",
        "PASSPORT_KEY_PASSPHRASE",
        "PASSPORT_SECRET_KEY",
        "PASSPORT_PUBLIC_URL",
        "PASSPORT_ALLOW_HTTP_FETCH",
        "PASSPORT_FETCH_TIMEOUT",
        "PASSPORT_FETCH_MAX_BYTES",
        "PASSPORT_OFFLINE",
    ):
        monkeypatch.delenv(name, raising=False)


def create_postgres_database(template: str | None = None) -> str:
    """Create a PostgreSQL database and return its URL.

    :param template: the name of a database to copy; default: an empty one.
    """
    name = f"passport_test_{uuid.uuid4().hex[:12]}"
    statement = f'CREATE DATABASE "{name}"'
    if template is not None:
        statement += f' TEMPLATE "{template}"'
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()
    return (
        make_url(POSTGRES_ADMIN_URL)
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def drop_postgres_database(url: str) -> None:
    """Drop a database made by :func:`create_postgres_database`."""
    name = make_url(url).database
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file (not yet created)."""
    return f"sqlite:///{tmp_path / 'passport.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test."""
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each supported kind, one test run per kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'passport.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def migrated_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database upgraded to every migration head."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str) -> Settings:
    """Platform settings for one test: its own data folder and SQLite file."""
    environ = {
        "PASSPORT_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": sqlite_url,
        "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
        "PASSPORT_SECRET_KEY": "test secret key",
        "PASSPORT_PUBLIC_URL": "http://127.0.0.1:5000",
    }
    return Settings.from_env(environ)
