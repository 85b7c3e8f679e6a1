"""Database engine, sessions and schema migrations.

SQLite (WAL mode, so readers do not block the writer) is the embedded
default; PostgreSQL serves several web and scheduler processes. The schema is
owned by the Alembic migrations in ``passport/migrations``; tables are never
created with ``create_all``, so every database has a migration history.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine as create_core_engine
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

logger = logging.getLogger(__name__)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    """Create an engine for ``database_url``, creating the SQLite folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            from passport.settings import make_private_dir

            make_private_dir(Path(url.database).parent)
        engine = create_engine(database_url, connect_args={"timeout": 10})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(database_url: str) -> Config:
    """Return an Alembic configuration for the bundled migrations."""
    config = Config()
    location = resources.files("passport").joinpath("migrations")
    config.set_main_option("script_location", str(location))
    # ConfigParser treats % as interpolation; URLs may contain it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Apply every pending migration of every branch.

    A database already at the heads is left as it is, so running this twice
    is safe.
    """
    command.upgrade(alembic_config(database_url), "heads")
    logger.info("database schema at heads")


# Alembic records the applied revisions in this table; ``passport init``
# creates it together with the schema.
ALEMBIC_VERSION_TABLE = "alembic_version"


class DatabaseNotInitialised(Exception):
    """The database a command needs is missing, unreachable or has no schema.

    The message names the URL (password hidden) and what to run.
    """


def safe_url(database_url: str) -> str:
    """Return ``database_url`` with any password replaced by ``***``."""
    return make_url(database_url).render_as_string(hide_password=True)


def describe_database(database_url: str) -> str:
    """Return the SQLite file path, or the URL without its password."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return safe_url(database_url)


def _missing(database_url: str) -> DatabaseNotInitialised:
    return DatabaseNotInitialised(
        f"No Staff Passport database at {describe_database(database_url)}: run "
        "'passport init' (or 'passport init --demo') there, or set "
        "PASSPORT_DATA_DIR / DATABASE_URL to an existing one."
    )


def _has_migration_history(engine: Engine) -> bool:
    with engine.connect() as connection:
        if not inspect(connection).has_table(ALEMBIC_VERSION_TABLE):
            return False
        row = connection.execute(
            text(f"SELECT version_num FROM {ALEMBIC_VERSION_TABLE} LIMIT 1")
        ).first()
        return row is not None


def check_database(database_url: str) -> None:
    """Check that ``passport init`` has created the database, creating nothing.

    A SQLite file is opened read-only, so a missing file stays missing.
    Other databases must be reachable and hold Alembic's version table.

    :raises DatabaseNotInitialised: naming the database and the fix.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise _missing(database_url)
        path = Path(url.database)
        if not path.is_file():
            raise _missing(database_url)
        # mode=ro makes SQLite fail instead of creating the file.
        check_url = f"sqlite:///{path.resolve().as_uri()}?mode=ro&uri=true"
    else:
        check_url = database_url
    engine = create_core_engine(check_url, poolclass=NullPool)
    try:
        initialised = _has_migration_history(engine)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or type(error).__name__)
        raise DatabaseNotInitialised(
            f"Cannot open the database at {describe_database(database_url)}: "
            f"{reason.strip().splitlines()[0] if reason.strip() else reason}. "
            "Check DATABASE_URL and that the server is running."
        ) from error
    finally:
        engine.dispose()
    if not initialised:
        raise _missing(database_url)
