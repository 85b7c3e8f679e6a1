"""Fixtures for the issuer's service tests: migrated databases and a key store.

Running every migration for every test costs about a second on PostgreSQL,
so each database kind is migrated once per test session into a template:
a SQLite file that each test copies, and a PostgreSQL template database
that each test clones with ``CREATE DATABASE ... TEMPLATE``. Each test
still gets its own fresh database.
"""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from keys.store import KeyStore
from passport.db import make_engine, upgrade_database
from tests.conftest import (
    TEST_PASSPHRASE,
    create_postgres_database,
    drop_postgres_database,
)

BASE_URL = "https://passport.example.org"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    url = create_postgres_database()
    upgrade_database(url)
    yield make_url(url).database or ""
    drop_postgres_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def issuer_database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A migrated database of each kind, cloned from the session's template."""
    if request.param == "sqlite":
        path = tmp_path / "passport.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = create_postgres_database(request.getfixturevalue("postgres_template"))
    yield url
    drop_postgres_database(url)


@pytest.fixture
def issuer_engine(issuer_database_url: str) -> Iterator[Engine]:
    engine = make_engine(issuer_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def key_store() -> KeyStore:
    return KeyStore(TEST_PASSPHRASE)


@pytest.fixture
def session(issuer_engine: Engine) -> Iterator[Session]:
    with Session(issuer_engine, expire_on_commit=False) as session:
        yield session
