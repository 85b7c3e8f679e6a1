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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
