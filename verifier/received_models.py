"""The table of passports HR received through share links, with their checks.

A share link works once and the challenge it carries is redeemed once, so
a received presentation cannot be verified again later. The verification
result is therefore stored with the presentation, and the passport report
is rebuilt from them for whichever role profile HR chooses.
"""

from datetime import UTC, datetime

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from wallet_web.models import new_public_id


def _now() -> datetime:
    return datetime.now(UTC)


class ReceivedPassport(SQLModel, table=True):
    """A presentation HR received and the result of verifying it.

    ``public_id`` names it in report URLs and in ``hr_decision.report_id``.
    NOTE: rows are kept until deleted by hand; no retention period removes
    the credentials (which name the staff member) yet.
    ``presentation`` is the JSON text received; ``result`` is
    :meth:`verifier.results.VerificationResult.to_json` of its verification.
    """

    __tablename__ = "received_passport"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(
        default_factory=new_public_id, unique=True, index=True, max_length=32
    )
    organisation_slug: str = Field(max_length=64)
    received_by: str = Field(max_length=254)
    received_at: datetime = Field(default_factory=_now)
    holder_did: str = ""
    verified: bool = False
    source: str = Field(default="share link", max_length=32)
    presentation: str = Field(sa_column=Column(Text, nullable=False))
    result: str = Field(sa_column=Column(Text, nullable=False))
