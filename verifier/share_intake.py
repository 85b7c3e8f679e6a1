"""Receiving a shared passport on HR's page: from scanned link to stored result.

HR's page hands over the text of a scanned QR code (or what a handheld
scanner typed). This module issues the verifier's own challenge, obtains
the presentation from the share link and verifies it, then stores the
presentation with its checks so that the passport report can be shown for
any role profile later. The link and the challenge each work once, so the
stored result is the only verification there will be.

The presentation is obtained in one of two ways:

- a link on this platform's own public URL is served in process by the
  wallet service. A request from a web worker to its own server would wait
  for a worker that may never be free (one gunicorn worker, or Flask's
  test client).
- any other link is fetched through :class:`verifier.fetch.FencedFetcher`,
  and only from an origin the trust registry lists for a member, so a
  scanned code cannot point the verifier at an internal address.
"""

import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from credentials.datamodel import as_list
from verifier.challenges import issue_challenge
from verifier.passport_check import (
    SHARE_PATH,
    ShareLinkInvalid,
    VerifierContext,
    fetch_shared_presentation,
    parse_share_url,
    verify_shared_presentation,
)
from verifier.received_models import ReceivedPassport
from verifier.registry import IssuerRegistry, origin_of
from verifier.results import Check, VerificationResult

logger = logging.getLogger(__name__)

# Share tokens are secrets.token_urlsafe(16): 22 URL-safe base64 characters.
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")

#: Returns the presentation for a share token on this platform, given
#: ``(token, challenge, domain, verifier_name)``. It raises ShareLinkInvalid with the
#: wallet's reason when the link is unknown, used or expired.
LocalWallet = Callable[[str, str, str, str], dict[str, Any]]


@dataclass(frozen=True)
class Receipt:
    """The HR account that receives a passport and the organisation it acts for."""

    organisation_slug: str
    received_by: str


def registry_origins(registries: Iterable[IssuerRegistry]) -> tuple[str, ...]:
    """Return every origin the registries list for their members, once each."""
    origins: dict[str, None] = {}
    for registry in registries:
        for member in registry:
            for origin in member.origins:
                origins[origin_of(origin)] = None
    return tuple(origins)


def local_share_token(url: str, public_url: str) -> str | None:
    """Return the token of ``url`` if it is a share link of this platform.

    :returns: None for a link on another origin.
    :raises ShareLinkInvalid: for a link on this origin that is not a share
        link, such as a path outside ``/s/`` or a malformed token.
    """
    if origin_of(url) != origin_of(public_url):
        return None
    # The origin matched, so only the path is compared, and exactly.
    parts = urlsplit(url)
    own_path = urlsplit(public_url.rstrip("/") + SHARE_PATH).path
    token = parts.path[len(own_path) :] if parts.path.startswith(own_path) else ""
    if parts.query or parts.fragment or not _TOKEN_PATTERN.fullmatch(token):
        raise ShareLinkInvalid(
            f"{url[:80]!r} is on this platform but is not a share link; scan the "
            "QR code on the staff member's 'Share passport' page."
        )
    return token


def obtain_presentation(
    url: str,
    *,
    challenge: str,
    context: VerifierContext,
    public_url: str,
    local_wallet: LocalWallet,
) -> dict[str, Any]:
    """Return the presentation that the share link at ``url`` returns.

    :raises ShareLinkInvalid: if the link is refused by the fence, fails, or
        the wallet refuses it; the message gives the reason in words.
    """
    token = local_share_token(url, public_url)
    if token is not None:
        return local_wallet(token, challenge, context.domain, context.verifier_name)
    document = fetch_shared_presentation(url, challenge=challenge, context=context)
    if not isinstance(document, dict):
        raise ShareLinkInvalid(
            "The wallet returned JSON that is not a presentation object; ask the "
            "staff member to share again."
        )
    return document


def receive_passport(
    session: Session,
    scanned: str,
    *,
    context: VerifierContext,
    public_url: str,
    local_wallet: LocalWallet,
    receipt: Receipt,
    now: datetime,
) -> ReceivedPassport:
    """Follow a scanned share link, verify the passport and store the result.

    The challenge is committed before the link is used, so that it exists
    whichever way the presentation arrives. The caller commits the rest.

    :raises ShareLinkInvalid: if the text is not a usable share link or the
        passport could not be obtained; nothing is stored then.
    """
    url = parse_share_url(scanned)
    request = issue_challenge(
        session,
        domain=context.domain,
        now=now,
        organisation_slug=receipt.organisation_slug,
    )
    challenge = request.challenge
    session.commit()
    presentation = obtain_presentation(
        url,
        challenge=challenge,
        context=context,
        public_url=public_url,
        local_wallet=local_wallet,
    )
    result = verify_shared_presentation(
        session, presentation, challenge=challenge, context=context, now=now
    )
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, dict) else holder
    row = ReceivedPassport(
        organisation_slug=receipt.organisation_slug,
        received_by=receipt.received_by,
        received_at=now,
        holder_did=holder_id if isinstance(holder_id, str) else "",
        verified=result.verified,
        presentation=json.dumps(presentation, ensure_ascii=False),
        result=json.dumps(result.to_json(), ensure_ascii=False),
    )
    session.add(row)
    session.flush()
    logger.info(
        "passport received report=%s org=%s verified=%s credentials=%d",
        row.public_id,
        receipt.organisation_slug,
        result.verified,
        len(result.credentials),
    )
    return row


def _checks(entries: Any) -> list[Check]:
    return [
        Check(
            id=str(entry["id"]),
            passed=bool(entry["passed"]),
            message=str(entry["message"]),
            severity=entry.get("severity", "error"),
            reason=str(entry.get("reason", "")),
        )
        for entry in entries
    ]


def stored_result(row: ReceivedPassport) -> VerificationResult:
    """Return the verification result stored with a received passport.

    Each credential's result gets its document back from the stored
    presentation, in the order the presentation lists them.
    """
    saved = json.loads(row.result)
    presentation = json.loads(row.presentation)
    documents = (
        as_list(presentation.get("verifiableCredential", []))
        if isinstance(presentation, dict)
        else []
    )
    result = VerificationResult(
        checks=_checks(saved.get("checks", [])),
        document=presentation if isinstance(presentation, dict) else None,
    )
    for index, inner in enumerate(saved.get("credentials", [])):
        document = documents[index] if index < len(documents) else None
        result.credentials.append(
            VerificationResult(
                checks=_checks(inner.get("checks", [])),
                document=document if isinstance(document, dict) else None,
            )
        )
    return result


def presentation_problems(result: VerificationResult) -> list[str]:
    """Return the messages of the presentation's own failed checks."""
    return [
        check.message
        for check in result.checks
        if not check.passed and check.severity == "error"
    ]


def find_received(
    session: Session, public_id: str, organisation_slugs: tuple[str, ...]
) -> ReceivedPassport | None:
    """Return a received passport that one of ``organisation_slugs`` received."""
    return session.exec(
        select(ReceivedPassport).where(
            ReceivedPassport.public_id == public_id,
            col(ReceivedPassport.organisation_slug).in_(organisation_slugs),
        )
    ).first()


def recent_received(
    session: Session, organisation_slugs: tuple[str, ...], limit: int = 50
) -> list[ReceivedPassport]:
    """Return the organisations' received passports, newest first."""
    return list(
        session.exec(
            select(ReceivedPassport)
            .where(col(ReceivedPassport.organisation_slug).in_(organisation_slugs))
            .order_by(col(ReceivedPassport.received_at).desc())
            .limit(limit)
        )
    )
