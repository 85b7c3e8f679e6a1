"""The ``eddsa-rdfc-2022`` cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0).

Transformation is RDFC-1.0 canonicalization of the JSON-LD document; the proof
configuration takes the document's ``@context`` and is canonicalized the same
way; the hash data is SHA-256(proof configuration) || SHA-256(document).
"""

import hashlib
from typing import Any

from credentials.canonicalization import Memo, canonicalize_rdfc

NAME = "eddsa-rdfc-2022"


def proof_options(
    document: dict[str, Any], proof_config: dict[str, Any]
) -> dict[str, Any]:
    """Return the proof as it is added to the document: the configuration unchanged.

    The rdfc suite reads the proof configuration with the document's
    ``@context`` while hashing, but does not copy it into the proof.
    """
    return dict(proof_config)


def transform(
    document: dict[str, Any], loader: Any = None, memo: Memo | None = None
) -> bytes:
    """Return the RDFC-1.0 canonical N-Quads of ``document`` as UTF-8."""
    return canonicalize_rdfc(document, loader, memo).encode("utf-8")


def canonical_proof_config(
    proof_config: dict[str, Any], document: dict[str, Any], loader: Any = None
) -> bytes:
    """Return the canonical N-Quads of the proof configuration.

    The configuration is interpreted with the document's ``@context``, as the
    suite's "proof configuration" algorithm sets it.
    """
    config = dict(proof_config)
    config["@context"] = document.get("@context")
    return canonicalize_rdfc(config, loader).encode("utf-8")


def hash_data(
    document: dict[str, Any],
    proof_config: dict[str, Any],
    loader: Any = None,
    memo: Memo | None = None,
) -> bytes:
    """Return the 64 bytes that the Ed25519 signature covers.

    :param memo: quads of ``document`` found earlier in the same
        verification, if any.
    """
    proof_hash = hashlib.sha256(
        canonical_proof_config(proof_config, document, loader)
    ).digest()
    document_hash = hashlib.sha256(transform(document, loader, memo)).digest()
    return proof_hash + document_hash
