"""Reading what people hand to a verifier: JSON or a wallet QR payload."""

import re
from typing import Any

from credentials.errors import CredentialError, MalformedDocument
from credentials.qr_payload import decode_credential
from verifier.pipeline import parse_json_document

# Any payload version, so that a newer version gets the codec's "version not
# supported" error rather than a JSON syntax error.
_QR_PREFIX_PATTERN = re.compile(r"\s*SP[0-9]+:", re.IGNORECASE)


def is_qr_payload(text: str) -> bool:
    """Return whether ``text`` looks like a wallet QR payload (``SP1:...``)."""
    return _QR_PREFIX_PATTERN.match(text) is not None


def parse_input(text: str) -> Any:
    """Return the document in ``text``: JSON, or a wallet QR payload.

    :raises ValueError: if the text is neither, naming the problem.
    """
    stripped = text.strip()
    if is_qr_payload(stripped):
        try:
            return decode_credential(stripped)
        except CredentialError as error:
            raise ValueError(f"The QR payload is unreadable: {error}") from error
    try:
        return parse_json_document(stripped)
    except MalformedDocument as error:
        raise ValueError(
            f"{error} Expected the SP1: text from a wallet QR code, or the "
            "credential or presentation JSON."
        ) from error


def is_presentation(document: Any) -> bool:
    """Return whether ``document`` declares the type VerifiablePresentation."""
    if not isinstance(document, dict):
        return False
    types = document.get("type")
    listed = types if isinstance(types, list) else [types]
    return "VerifiablePresentation" in listed
