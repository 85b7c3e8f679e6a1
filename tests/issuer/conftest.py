"""Fixtures for the issuer's service tests: migrated databases and a key store.

Running every migration for every test costs about a second on PostgreSQL,
and creating an organisation half a second (sealing its key, drawing its
status lists' permutations). So each database kind is prepared once per test
session as a template, empty or with two organisations, and each test gets
its own copy: a copied SQLite file, or a PostgreSQL database created with
``CREATE DATABASE ... TEMPLATE``.
"""

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from issuer.api import bp as api_blueprint
from issuer.models import Organisation
from issuer.organisations import create_organisation, get_organisation
from issuer.public import bp as public_blueprint
from keys.store import KeyStore
from passport.db import make_engine, upgrade_database
from tests.conftest import (
    TEST_PASSPHRASE,
    create_postgres_database,
    drop_postgres_database,
)

BASE_URL = "https://passport.example.org"
ISSUER_BLUEPRINTS = (public_blueprint, api_blueprint)
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
SEEDED_ORGANISATIONS = (
    ("chelmer-valley", "Chelmer Valley Hospitals NHS Foundation Trust", "901"),
    ("colne-estuary", "Colne Estuary University Hospitals NHS Trust", "902"),
)


def seed_organisations(url: str) -> None:
    """Create the two test organisations in the database at ``url``."""
    engine = make_engine(url)
    key_store = KeyStore(TEST_PASSPHRASE)
    with Session(engine) as session:
        for slug, name, vpd in SEEDED_ORGANISATIONS:
            create_organisation(
                session,
                key_store,
                slug=slug,
                name=name,
                org_type="acute trust",
                cstf_aligned=True,
                esr_vpd_code=vpd,
                base_url=BASE_URL,
                at=CREATED_AT,
            )
        session.commit()
    engine.dispose()


def _sqlite_template(
    factory: pytest.TempPathFactory, seed: Callable[[str], None] | None
) -> Path:
    path = factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    if seed is not None:
        seed(f"sqlite:///{path}")
    return path


def _postgres_template(seed: Callable[[str], None] | None) -> str:
    url = create_postgres_database()
    upgrade_database(url)
    if seed is not None:
        seed(url)
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sqlite_template(tmp_path_factory, None)


@pytest.fixture(scope="session")
def seeded_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sqlite_template(tmp_path_factory, seed_organisations)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    url = _postgres_template(None)
    yield make_url(url).database or ""
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def seeded_postgres_template() -> Iterator[str]:
    url = _postgres_template(seed_organisations)
    yield make_url(url).database or ""
    drop_postgres_database(url)


def _database_copy(
    request: pytest.FixtureRequest, tmp_path: Path, seeded: bool
) -> Iterator[str]:
    prefix = "seeded_" if seeded else ""
    if request.param == "sqlite":
        path = tmp_path / "passport.db"
        shutil.copyfile(request.getfixturevalue(f"{prefix}sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = create_postgres_database(
        request.getfixturevalue(f"{prefix}postgres_template")
    )
    yield url
    drop_postgres_database(url)


DATABASE_KINDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASE_KINDS)
def issuer_database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    yield from _database_copy(request, tmp_path, seeded=False)


@pytest.fixture(params=DATABASE_KINDS)
def seeded_database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """A migrated database of each kind holding the two test organisations."""
    yield from _database_copy(request, tmp_path, seeded=True)


@pytest.fixture
def issuer_engine(issuer_database_url: str) -> Iterator[Engine]:
    engine = make_engine(issuer_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_engine(seeded_database_url: str) -> Iterator[Engine]:
    engine = make_engine(seeded_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def key_store() -> KeyStore:
    return KeyStore(TEST_PASSPHRASE)


@pytest.fixture
def session(issuer_engine: Engine) -> Iterator[Session]:
    with Session(issuer_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def seeded_session(seeded_engine: Engine) -> Iterator[Session]:
    with Session(seeded_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def chelmer(seeded_session: Session) -> Organisation:
    return get_organisation(seeded_session, "chelmer-valley")


@pytest.fixture
def colne(seeded_session: Session) -> Organisation:
    return get_organisation(seeded_session, "colne-estuary")


@pytest.fixture
def seeded_app(seeded_database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The issuer's blueprints on a Flask app over the seeded database."""
    from passport.app import Platform
    from passport.settings import Settings

    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": seeded_database_url,
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "test secret key",
            "PASSPORT_PUBLIC_URL": BASE_URL,
        }
    )
    app = Flask("issuer-test")
    app.config.update(TESTING=True, SECRET_KEY=settings.secret_key)
    app.extensions["platform"] = Platform(settings)
    for blueprint in ISSUER_BLUEPRINTS:
        app.register_blueprint(blueprint)
    yield app
    app.extensions["platform"].dispose()
