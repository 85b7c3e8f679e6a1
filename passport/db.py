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
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
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
            from pathlib import Path

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
