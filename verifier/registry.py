"""The partnership's issuers, as the verifier knows them.

This first registry answers "is this DID a member of the partnership, and
under which name?". Which credential types each member may issue, and when
it joined or left, are not modelled yet.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TrustedIssuer:
    """A partnership member that issues credentials under ``did``."""

    did: str
    name: str
    slug: str = ""


class IssuerRegistry:
    """A lookup of trusted issuers by DID."""

    def __init__(self, issuers: Iterable[TrustedIssuer] = ()) -> None:
        self._by_did = {issuer.did: issuer for issuer in issuers}

    def __len__(self) -> int:
        return len(self._by_did)

    def lookup(self, did: str | None) -> TrustedIssuer | None:
        """Return the member that issues under ``did``, or None."""
        if did is None:
            return None
        return self._by_did.get(did)


EMPTY_REGISTRY = IssuerRegistry()
