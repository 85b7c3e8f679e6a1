"""Verification of training credentials and passports.

The public API::

    from verifier import verify_credential, verify_presentation

    result = verify_credential(document)
    result.verified          # bool
    result.checks            # [Check(id, passed, message, severity), ...]

Both functions accept a parsed document or its JSON text, never raise for
bad input, and never reach the network.
"""

from verifier.pipeline import verify_credential, verify_presentation
from verifier.registry import IssuerRegistry, TrustedIssuer
from verifier.results import Check, VerificationResult

__all__ = [
    "Check",
    "IssuerRegistry",
    "TrustedIssuer",
    "VerificationResult",
    "verify_credential",
    "verify_presentation",
]
