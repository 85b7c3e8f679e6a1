"""The wallet's service API: receiving and listing credentials.

Nothing here knows Flask. Credentials are stored as the exact JSON text that
was signed, so what the wallet shows, exports and puts in a QR code is byte
for byte what the issuer signed.
"""

import json
import logging
from typing import Any

from sqlmodel import Session, select

from wallet_web.models import WalletCredential

logger = logging.getLogger(__name__)


def receive_credential(
    session: Session, wallet_id: int, document: str
) -> WalletCredential:
    """Store a signed credential in a wallet, once.

    Receiving a credential the wallet already holds returns the stored row
    and changes nothing. The caller commits.

    :param document: the credential's JSON text exactly as signed.
    :raises ValueError: if the text is not a JSON object with a string ``id``.
    """
    parsed = json.loads(document)
    credential_id = parsed.get("id") if isinstance(parsed, dict) else None
    if not isinstance(credential_id, str):
        raise ValueError(
            f"Credential id {credential_id!r} is not a string; only credentials "
            "with an id can be received into a wallet."
        )
    existing = session.exec(
        select(WalletCredential).where(
            WalletCredential.wallet_id == wallet_id,
            WalletCredential.credential_id == credential_id,
        )
    ).first()
    if existing is not None:
        return existing
    row = WalletCredential(
        wallet_id=wallet_id, credential_id=credential_id, document=document
    )
    session.add(row)
    logger.debug("wallet %s received credential %s", wallet_id, credential_id)
    return row


def wallet_credentials(session: Session, wallet_id: int) -> list[WalletCredential]:
    """Return the credentials a wallet holds, oldest first."""
    statement = (
        select(WalletCredential)
        .where(WalletCredential.wallet_id == wallet_id)
        .order_by(WalletCredential.id)  # type: ignore[arg-type]
    )
    return list(session.exec(statement))


def parsed_document(row: WalletCredential) -> dict[str, Any]:
    """Return a stored credential as parsed JSON."""
    document: dict[str, Any] = json.loads(row.document)
    return document
