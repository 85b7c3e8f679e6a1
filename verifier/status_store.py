"""A status list store in the database, shared by every worker process.

Fetched lists outlive a restart, so offline mode still has the lists the
platform fetched before it lost its network, with their age.
"""

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from credentials.status_list import decode_list, encode_list
from verifier.models import CachedStatusListRow
from verifier.status import CachedStatusList


class DatabaseStatusListStore:
    """Keeps verified status lists in the ``status_list_cache`` table."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, url: str) -> CachedStatusList | None:
        with Session(self.engine) as session:
            row = session.get(CachedStatusListRow, url)
            if row is None:
                return None
            return CachedStatusList(
                url=row.url,
                issuer=row.issuer,
                purpose=row.purpose,
                bitstring=decode_list(row.encoded_list, status_size=row.status_size),
                fetched_at=row.fetched_at,
            )

    def put(self, entry: CachedStatusList) -> None:
        with Session(self.engine) as session:
            row = session.get(CachedStatusListRow, entry.url) or CachedStatusListRow(
                url=entry.url,
                issuer=entry.issuer,
                purpose=entry.purpose,
                encoded_list="",
                fetched_at=entry.fetched_at,
            )
            row.issuer = entry.issuer
            row.purpose = entry.purpose
            row.status_size = entry.bitstring.status_size
            row.encoded_list = encode_list(entry.bitstring)
            row.fetched_at = entry.fetched_at
            session.add(row)
            try:
                session.commit()
            except IntegrityError:
                # Another worker stored the same list first; its copy is as
                # fresh as this one.
                session.rollback()
