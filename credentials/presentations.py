"""Verifiable Presentations: a holder's envelope around credentials."""

from typing import Any

from credentials.datamodel import VERIFIABLE_PRESENTATION
from credentials.document_loader import CREDENTIALS_V2


def create_presentation(
    credentials: list[dict[str, Any]], *, holder: str, id: str | None = None
) -> dict[str, Any]:
    """Return an unsigned presentation of ``credentials`` by ``holder``.

    Sign it with :func:`credentials.proofs.add_proof` using the holder's key,
    proof purpose ``authentication`` and the verifier's challenge and domain.
    """
    presentation: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "type": [VERIFIABLE_PRESENTATION],
        "holder": holder,
        "verifiableCredential": list(credentials),
    }
    if id is not None:
        presentation["id"] = id
    return presentation
