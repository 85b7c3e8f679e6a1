"""The ``eddsa-jcs-2022`` cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0).

Transformation is the JSON Canonicalization Scheme (RFC 8785); the proof
configuration carries the document's ``@context`` when it has one; the hash
data is SHA-256(proof configuration) || SHA-256(document). JSON-LD is not
processed for the signature. Signing still checks the document in JSON-LD
safe mode, so every term of what this project issues is defined.
When every context of a document is a bundled URL, verification checks
only that, because the signature covers every member as written and
expansion cannot drop any. A document with an inline context is expanded.
"""

import hashlib
from typing import Any

from credentials.canonicalization import Memo, canonicalize_jcs

NAME = "eddsa-jcs-2022"


def proof_options(
    document: dict[str, Any], proof_config: dict[str, Any]
) -> dict[str, Any]:
    """Return the proof configuration with the document's ``@context`` added.

    The suite's proof configuration copies ``@context`` from the unsecured
    document, and the finished proof keeps it, so a verifier can check that
    the document's contexts were not replaced after signing.
    """
    config = dict(proof_config)
    if "@context" in document:
        config["@context"] = document["@context"]
    return config


def hash_data(
    document: dict[str, Any],
    proof_config: dict[str, Any],
    loader: Any = None,
    memo: Memo | None = None,
) -> bytes:
    """Return the 64 bytes that the Ed25519 signature covers.

    ``loader`` is accepted for a common signature with the rdfc suite, but
    JCS reads no contexts. ``memo`` may record that the document both parts
    come from contains plain JSON only.
    """
    plain = memo is not None and memo.plain_json
    config = proof_options(document, proof_config)
    proof_hash = hashlib.sha256(canonicalize_jcs(config, plain_json=plain)).digest()
    document_hash = hashlib.sha256(
        canonicalize_jcs(document, plain_json=plain)
    ).digest()
    return proof_hash + document_hash
