"""What the issuer's Flask views share: the platform's services and sessions.

The app root stores a platform object with an ``engine``, a ``key_store``
and ``settings`` under ``app.extensions["platform"]``. The views reach it
through these helpers, so the issuer never imports the app root.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, cast

from flask import current_app
from sqlalchemy.engine import Engine
from sqlmodel import Session

from keys.store import KeyStore


class PlatformServices(Protocol):
    """The services the app root provides to every blueprint."""

    engine: Engine
    key_store: KeyStore
    settings: Any


MAX_ROW_ID = 2**31 - 1
"""The maximum id, sequence or page number in a URL, which is the maximum of
a PostgreSQL ``integer`` column. SQLite and psycopg raise on a larger number
instead of finding no row, so routes and query arguments stop it first."""


def row_number(text: str) -> int:
    """Parse a query argument that is an id or a page number.

    Meant for ``request.args.get(name, default, type=row_number)``, which
    returns the default when this raises.

    :raises ValueError: if ``text`` is not a whole number from 0 to
        :data:`MAX_ROW_ID`.
    """
    number = int(text)
    if not 0 <= number <= MAX_ROW_ID:
        raise ValueError(f"{text!r} is outside 0 to {MAX_ROW_ID}")
    return number


def services() -> PlatformServices:
    """Return the current app's platform services."""
    return cast(PlatformServices, current_app.extensions["platform"])


@contextmanager
def db_session() -> Iterator[Session]:
    """Yield a session on the current app's database that commits on success."""
    with Session(services().engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
