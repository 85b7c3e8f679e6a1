"""Sharing a passport: one-time links, signed presentations, exports.

The staff member picks credentials (by default every one still valid) and
the wallet makes a one-time link: a short URL whose random token is the
only secret, valid for one use and ten minutes. HR's verifier sends the
link its own challenge and domain; the wallet answers once with a
presentation of the chosen credentials signed by the holder's key over
them. Using the link marks it used in the same conditional UPDATE that
checks it, so two verifiers racing for one link cannot both get it.

Nothing here imports Flask.
"""

import hashlib
import json
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from credentials.datetimes import parse_date_time_stamp
from credentials.errors import CredentialError
from credentials.presentations import create_presentation
from credentials.proofs import AUTHENTICATION, add_proof
from issuer.service import credential_states
from keys.store import KeyStore
from wallet_web.models import Wallet, WalletCredential
from wallet_web.sharing_models import ShareLink

logger = logging.getLogger(__name__)

SHARE_LIFETIME = timedelta(minutes=10)
SHARE_PATH = "/s/"
PRESENTATION_CRYPTOSUITE = "eddsa-jcs-2022"
MAX_CHALLENGE_LENGTH = 256
MAX_DOMAIN_LENGTH = 512


class SharingError(Exception):
    """A share request that cannot be carried out; the message says why."""


class ShareUnavailable(SharingError):
    """A share link that is unknown, expired or already used."""


@dataclass(frozen=True)
class NewShare:
    """A share link just made; ``token`` is shown once and never stored."""

    link: ShareLink
    token: str

    def url(self, public_url: str) -> str:
        """Return the link's URL under the wallet's public base URL."""
        return public_url.rstrip("/") + SHARE_PATH + self.token


def token_hash(token: str) -> str:
    """Return the stored form of a share token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _valid_until(row: WalletCredential) -> datetime | None:
    value = json.loads(row.document).get("validUntil")
    try:
        return parse_date_time_stamp(value) if isinstance(value, str) else None
    except CredentialError:
        return None


def valid_credential_ids(session: Session, wallet_id: int, now: datetime) -> list[str]:
    """Return the ids of the wallet's credentials that have not expired and
    that their issuer has not revoked or suspended."""
    rows = session.exec(
        select(WalletCredential)
        .where(WalletCredential.wallet_id == wallet_id)
        .order_by(col(WalletCredential.id))
    ).all()
    states = credential_states(session, [row.credential_id for row in rows])
    ids = []
    for row in rows:
        until = _valid_until(row)
        withdrawn = states.get(row.credential_id) in ("revoked", "suspended")
        if (until is None or until > now) and not withdrawn:
            ids.append(row.credential_id)
    return ids


def create_share(
    session: Session,
    wallet_id: int,
    credential_ids: list[str] | None,
    *,
    now: datetime,
    lifetime: timedelta = SHARE_LIFETIME,
) -> NewShare:
    """Make a one-time share link for ``credential_ids`` (None: every valid one).

    The caller commits.

    :raises SharingError: if nothing is chosen or a credential is not in the
        wallet.
    """
    if credential_ids is None:
        credential_ids = valid_credential_ids(session, wallet_id, now)
    if not credential_ids:
        raise SharingError(
            "No credentials were chosen; pick at least one credential to share."
        )
    held = set(
        session.exec(
            select(WalletCredential.credential_id).where(
                WalletCredential.wallet_id == wallet_id
            )
        ).all()
    )
    missing = [cid for cid in credential_ids if cid not in held]
    if missing:
        raise SharingError(
            f"Credential {missing[0]!r} is not in this wallet; it cannot be shared."
        )
    token = secrets.token_urlsafe(16)
    link = ShareLink(
        token_hash=token_hash(token),
        wallet_id=wallet_id,
        credential_ids=json.dumps(list(dict.fromkeys(credential_ids))),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(link)
    session.flush()
    logger.info(
        "share link created share=%s wallet=%s credentials=%d",
        link.id,
        wallet_id,
        len(credential_ids),
    )
    return NewShare(link, token)


def _check_request(challenge: object, domain: object) -> tuple[str, str]:
    if (
        not isinstance(challenge, str)
        or not 8 <= len(challenge) <= MAX_CHALLENGE_LENGTH
    ):
        raise SharingError(
            f"challenge {challenge!r:.40} is missing or not 8 to "
            f"{MAX_CHALLENGE_LENGTH} characters of text; send the verifier's "
            "own fresh challenge."
        )
    if not isinstance(domain, str) or not domain or len(domain) > MAX_DOMAIN_LENGTH:
        raise SharingError(
            f"domain {domain!r:.40} is missing or longer than {MAX_DOMAIN_LENGTH} "
            "characters; send the verifier's origin, such as "
            "'https://hr.trust.example'."
        )
    return challenge, domain


def present_share(
    session: Session,
    key_store: KeyStore,
    token: str,
    *,
    challenge: object,
    domain: object,
    verifier_name: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Use a share link once: return the presentation signed over the
    verifier's ``challenge`` and ``domain``. The caller commits.

    :raises SharingError: for a missing or malformed challenge or domain
        (the link stays unused).
    :raises ShareUnavailable: if the link is unknown, expired or used.
    """
    challenge, domain = _check_request(challenge, domain)
    digest = token_hash(token)
    claimed = session.exec(
        update(ShareLink)
        .where(
            col(ShareLink.token_hash) == digest,
            col(ShareLink.used_at).is_(None),
            col(ShareLink.expires_at) > now,
        )
        .values(
            used_at=now,
            verifier_domain=domain,
            verifier_name=(verifier_name or "")[:200] or None,
        )
    )
    link = session.exec(select(ShareLink).where(ShareLink.token_hash == digest)).first()
    if claimed.rowcount != 1 or link is None:
        raise ShareUnavailable(_unavailable_reason(link))
    session.refresh(link)

    wallet = session.get(Wallet, link.wallet_id)
    assert wallet is not None
    ids = json.loads(link.credential_ids)
    rows = session.exec(
        select(WalletCredential).where(
            WalletCredential.wallet_id == wallet.id,
            col(WalletCredential.credential_id).in_(ids),
        )
    ).all()
    by_id = {row.credential_id: json.loads(row.document) for row in rows}
    credentials = [by_id[cid] for cid in ids if cid in by_id]
    presentation = sign_presentation(
        session, key_store, wallet, credentials, challenge=challenge, domain=domain
    )
    logger.info("share link used share=%s credentials=%d", link.id, len(credentials))
    return presentation


def _unavailable_reason(link: ShareLink | None) -> str:
    if link is None:
        return "This share link is not known; ask the staff member for a new one."
    if link.used_at is not None:
        return (
            "This share link was already used at "
            f"{link.used_at.isoformat(timespec='seconds')}; each link works "
            "once, so ask for a new one."
        )
    return (
        "This share link expired at "
        f"{link.expires_at.isoformat(timespec='seconds')}; ask for a new one."
    )


def sign_presentation(
    session: Session,
    key_store: KeyStore,
    wallet: Wallet,
    credentials: list[dict[str, Any]],
    *,
    challenge: str,
    domain: str,
) -> dict[str, Any]:
    """Return a presentation of ``credentials`` signed by the holder's key."""
    unsigned = create_presentation(
        credentials, holder=wallet.holder_did, id=f"urn:uuid:{uuid.uuid4()}"
    )
    signer = key_store.load(session, wallet.holder_key_id)
    return add_proof(
        unsigned,
        signer=signer,
        cryptosuite=PRESENTATION_CRYPTOSUITE,
        proof_purpose=AUTHENTICATION,
        challenge=challenge,
        domain=domain,
    )


def export_passport(
    session: Session,
    key_store: KeyStore,
    wallet_id: int,
    credential_ids: list[str] | None,
    *,
    domain: str,
) -> dict[str, Any]:
    """Return the chosen credentials (None: all) and a signed presentation.

    The presentation's challenge is random and its domain is the wallet's
    own, so a verifier can check the holder's signature but the export
    cannot pass as an answer to its own challenge.
    """
    wallet = session.get(Wallet, wallet_id)
    assert wallet is not None
    statement = select(WalletCredential).where(WalletCredential.wallet_id == wallet_id)
    rows = session.exec(statement.order_by(col(WalletCredential.id))).all()
    if credential_ids is not None:
        wanted = set(credential_ids)
        rows = [row for row in rows if row.credential_id in wanted]
    credentials = [json.loads(row.document) for row in rows]
    return {
        "credentials": credentials,
        "presentation": sign_presentation(
            session,
            key_store,
            wallet,
            credentials,
            challenge=secrets.token_urlsafe(16),
            domain=domain,
        ),
    }


def delete_credential(session: Session, wallet_id: int, credential_id: str) -> bool:
    """Delete one credential from the wallet; return whether it was there.

    The issuer's copy and status entry are untouched. The caller commits.
    """
    row = session.exec(
        select(WalletCredential).where(
            WalletCredential.wallet_id == wallet_id,
            WalletCredential.credential_id == credential_id,
        )
    ).first()
    if row is None:
        return False
    session.delete(row)
    logger.info("wallet %s deleted a credential", wallet_id)
    return True


def sharing_history(session: Session, wallet_id: int) -> list[ShareLink]:
    """Return the wallet's share links, newest first, used or not."""
    return list(
        session.exec(
            select(ShareLink)
            .where(ShareLink.wallet_id == wallet_id)
            .order_by(col(ShareLink.created_at).desc())
        ).all()
    )
