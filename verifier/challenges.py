"""Presentation requests: challenges this verifier issues, valid once.

HR's page asks for a fresh challenge for each passport it receives. The
wallet signs its presentation over that challenge and the verifier's
domain; the verifier then redeems the challenge, which succeeds only if
this verifier issued it, for that domain, it has not expired and it was
not redeemed before. Redemption is one conditional UPDATE, so two workers
receiving the same presentation at once cannot both succeed.
"""

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from verifier.models import PresentationRequest
from verifier.results import Check

logger = logging.getLogger(__name__)

DEFAULT_CHALLENGE_LIFETIME = timedelta(minutes=5)
CHECK_ID = "challenge-issued"


def issue_challenge(
    session: Session,
    *,
    domain: str,
    now: datetime,
    lifetime: timedelta = DEFAULT_CHALLENGE_LIFETIME,
    organisation_slug: str | None = None,
) -> PresentationRequest:
    """Create and store a new random challenge for ``domain``.

    The caller commits. The challenge has 128 random bits, URL-safe.
    """
    request = PresentationRequest(
        challenge=secrets.token_urlsafe(16),
        domain=domain,
        created_at=now,
        expires_at=now + lifetime,
        organisation_slug=organisation_slug,
    )
    session.add(request)
    session.flush()
    return request


def redeem_challenge(
    session: Session, challenge: str | None, *, domain: str, now: datetime
) -> Check:
    """Mark ``challenge`` used and return the ``challenge-issued`` check.

    The check fails, naming why, if this verifier did not issue the
    challenge for ``domain``, if it expired, or if it was used before. The
    caller commits.
    """
    if not isinstance(challenge, str) or not challenge:
        return Check(CHECK_ID, False, "The presentation carries no challenge.")
    statement = (
        update(PresentationRequest)
        .where(
            PresentationRequest.challenge == challenge,  # type: ignore[arg-type]
            PresentationRequest.domain == domain,  # type: ignore[arg-type]
            PresentationRequest.used_at.is_(None),  # type: ignore[union-attr]
            PresentationRequest.expires_at > now,  # type: ignore[arg-type]
        )
        .values(used_at=now)
    )
    if session.exec(statement).rowcount == 1:
        return Check(
            CHECK_ID, True, "This verifier issued the challenge, and it was unused."
        )
    request = session.exec(
        select(PresentationRequest).where(PresentationRequest.challenge == challenge)
    ).first()
    if request is None:
        message = "The challenge was not issued by this verifier."
    elif request.domain != domain:
        message = f"The challenge was issued for {request.domain!r}, not {domain!r}."
    elif request.used_at is not None:
        message = (
            "The challenge was already used at "
            f"{request.used_at.isoformat(timespec='seconds')}; a presentation "
            "cannot be replayed."
        )
    else:
        message = (
            "The challenge expired at "
            f"{request.expires_at.isoformat(timespec='seconds')}; ask for a new one."
        )
    logger.info("challenge rejected: %s", message)
    return Check(CHECK_ID, False, message)
