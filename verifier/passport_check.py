"""Receiving a shared passport: HR's side of the one-time link.

HR scans the staff member's QR code, which holds a short share URL. The
verifier checks that URL against the wallet origins it is configured to
talk to (no request is made to any other), issues its own challenge,
sends the challenge and its domain to the link, and verifies the
presentation that comes back: the pipeline's checks, then whether this
verifier issued the challenge, unexpired and unused.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from credentials.proofs import DidResolver
from verifier.challenges import issue_challenge, redeem_challenge
from verifier.errors import FetchError, VerifierError
from verifier.fetch import FencedFetcher
from verifier.pipeline import verify_presentation
from verifier.registry import IssuerRegistry
from verifier.results import VerificationResult
from verifier.status import StatusListCache

logger = logging.getLogger(__name__)

MAX_SHARE_URL_LENGTH = 200
SHARE_PATH = "/s/"


class ShareLinkInvalid(VerifierError):
    """A scanned text that is not a share link this verifier may use."""


@dataclass
class VerifierContext:
    """What a verification needs beyond the document.

    :param domain: this verifier's origin, sent as the presentation domain.
    :param wallet_origins: origins of wallets whose share links it follows.
    """

    domain: str
    registry: IssuerRegistry
    resolve_did: DidResolver
    status_lists: StatusListCache | None
    fetcher: FencedFetcher
    wallet_origins: tuple[str, ...]
    verifier_name: str = ""


def parse_share_url(text: str) -> str:
    """Return the share URL in scanned or typed ``text``.

    Handheld scanners type the QR content followed by Enter, sometimes with
    surrounding spaces; those are removed.

    :raises ShareLinkInvalid: if the text is not a URL with a share path.
    """
    url = text.strip()
    if not url:
        raise ShareLinkInvalid("Nothing was scanned; scan the passport QR code again.")
    if len(url) > MAX_SHARE_URL_LENGTH or not url.isascii():
        raise ShareLinkInvalid(
            "The scanned text is not a passport share link (a short web address); "
            "for a single-credential QR code, use the credential check instead."
        )
    if not url.startswith(("https://", "http://")) or SHARE_PATH not in url:
        raise ShareLinkInvalid(
            f"{url[:60]!r} is not a passport share link; it should look like "
            "https://passport.example/s/…"
        )
    return url


def verify_shared_presentation(
    session: Session,
    presentation: Any,
    *,
    challenge: str,
    context: VerifierContext,
    now: datetime,
) -> VerificationResult:
    """Verify a presentation answering ``challenge`` and redeem the challenge.

    The ``challenge-issued`` check follows the pipeline's ``challenge``
    check. The caller commits, which makes the redemption final.
    """
    result = verify_presentation(
        presentation,
        challenge=challenge,
        domain=context.domain,
        now=now,
        registry=context.registry,
        resolve_did=context.resolve_did,
        status_lists=context.status_lists,
    )
    result.insert_after(
        "challenge",
        redeem_challenge(session, challenge, domain=context.domain, now=now),
    )
    return result


def receive_shared_passport(
    session: Session,
    scanned: str,
    *,
    context: VerifierContext,
    now: datetime,
) -> VerificationResult:
    """Follow a scanned share link and verify the passport it returns.

    :raises ShareLinkInvalid: if the text is not a share link, points to a
        wallet this verifier does not use, or the wallet refused (the
        wallet's reason, such as "already used", is in the message).
    """
    url = parse_share_url(scanned)
    request = issue_challenge(session, domain=context.domain, now=now)
    session.commit()
    presentation = fetch_shared_presentation(
        url, challenge=request.challenge, context=context
    )
    return verify_shared_presentation(
        session, presentation, challenge=request.challenge, context=context, now=now
    )


def fetch_shared_presentation(
    url: str, *, challenge: str, context: VerifierContext
) -> Any:
    """POST the challenge and domain to the share link at ``url`` through the
    fence, and return the JSON document the wallet returns.

    :raises ShareLinkInvalid: if the fence refuses the URL or the request
        fails; the wallet's own reason, such as "already used", is in the
        message.
    """
    try:
        fetched = context.fetcher.fetch_json(
            url,
            context.wallet_origins,
            listed_for="partnership wallets",
            post={
                "challenge": challenge,
                "domain": context.domain,
                "verifier": context.verifier_name,
            },
        )
    except FetchError as error:
        logger.info("share link not followed: %s", type(error).__name__)
        raise ShareLinkInvalid(
            f"The passport could not be received: {error}"
        ) from error
    return fetched.document
