"""Alembic environment: runs migrations against ``sqlalchemy.url``.

Each feature package may keep its own branch of revisions (a revision whose
``down_revision`` is ``0001`` with a ``branch_labels`` entry naming the
package), so that packages developed side by side never fight over one
linear history. ``passport init`` upgrades to ``heads``: every branch.
"""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from passport.db import make_engine
from passport.models import import_all_models

import_all_models()
target_metadata = SQLModel.metadata


def render_item(
    kind: str, item: Any, autogen_context: AutogenContext
) -> str | Literal[False]:
    """Render SQLModel's column types as plain SQLAlchemy types.

    Generated revisions then import only ``sqlalchemy``, and keep working
    when SQLModel renames its internal type classes.
    """
    if kind != "type":
        return False
    if isinstance(item, AutoString):
        return f"sa.String(length={item.length})" if item.length else "sa.String()"
    if isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a SQLite table by copying it and
            # dropping the original, which foreign keys from other tables
            # would block. The check after the migrations keeps integrity.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            _check_sqlite_foreign_keys(connection)
    engine.dispose()


def _check_sqlite_foreign_keys(connection: Any) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    connection.commit()
    if violations:
        raise RuntimeError(
            f"The migrations left {len(violations)} rows whose foreign keys point "
            f"nowhere, first {tuple(violations[0])!r}; restore the database "
            "from its backup and report the migration."
        )


run_migrations()
