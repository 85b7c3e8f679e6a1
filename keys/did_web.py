"""did:web identifiers and the DID documents this platform publishes for them.

A did:web DID names an HTTPS location: ``did:web:HOST[:PATH...]``, where a
port in HOST is written ``%3A`` and each further ``:``-separated segment is
a path segment. ``did:web:example.org:orgs:acme`` is published at
``https://example.org/orgs/acme/did.json`` (W3C CCG did:web method
specification, "Read (Resolve)").

Nothing here fetches anything: documents are built from the key history the
caller passes in, and resolution from a document cache is local.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from keys.did_key import DID_CONTEXT, MULTIKEY_CONTEXT, did_of, resolve_did_key
from keys.errors import InvalidDid
from keys.multikey import MULTIKEY_TYPE

DID_WEB_PREFIX = "did:web:"
DID_KEY_PREFIX = "did:key:"

ASSERTION_METHOD = "assertionMethod"
AUTHENTICATION = "authentication"
CAPABILITY_INVOCATION = "capabilityInvocation"

# Segments may contain unreserved URL characters and percent escapes; a
# colon separates segments and a slash is never part of one.
_SEGMENT_SAFE = "-._~!$&'()*+,;=@"


@dataclass(frozen=True)
class PublishedMethod:
    """A verification method as a DID document lists it.

    ``relationships`` are the verification relationships that reference it,
    such as ``assertionMethod``. The history fields are XSD dateTimeStamps
    or None: ``created`` is when the key came into use, ``revoked`` when it
    was retired by a rotation (proofs made before stay valid) and
    ``compromised`` the instant from which its proofs are not trusted.
    """

    id: str
    public_key_multibase: str
    relationships: tuple[str, ...]
    created: str | None = None
    revoked: str | None = None
    compromised: str | None = None

    def history(self) -> dict[str, str]:
        """Return the history fields that are set, by name."""
        fields = {
            "created": self.created,
            "revoked": self.revoked,
            "compromised": self.compromised,
        }
        return {name: value for name, value in fields.items() if value is not None}


def did_web_for(base_url: str, *path: str) -> str:
    """Return the did:web DID for a document under ``base_url``.

    ``did_web_for("http://127.0.0.1:5000", "orgs", "acme")`` is
    ``did:web:127.0.0.1%3A5000:orgs:acme``. The scheme is dropped, because
    a did:web DID always resolves over HTTPS.

    :raises InvalidDid: if ``base_url`` has no host or a path segment is
        empty.
    """
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise InvalidDid(
            f"Base URL {base_url!r} has no host; expected a URL such as "
            "https://passport.example.org."
        )
    host = parts.hostname
    if parts.port is not None:
        host = f"{host}%3A{parts.port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    segments.extend(path)
    if any(not segment for segment in segments):
        raise InvalidDid(f"A did:web path segment is empty in {segments!r}.")
    encoded = [quote(segment, safe=_SEGMENT_SAFE) for segment in segments]
    return DID_WEB_PREFIX + ":".join([host, *encoded])


def did_web_document_url(did: str, *, scheme: str = "https") -> str:
    """Return the URL at which a did:web DID's document is published.

    :param scheme: ``https`` as the method requires; ``http`` only for a
        local test server.
    :raises InvalidDid: if ``did`` is not a well-formed did:web DID.
    """
    if not did.startswith(DID_WEB_PREFIX) or did != did_of(did):
        raise InvalidDid(f"{did!r} is not a did:web DID without a fragment.")
    host, *segments = did[len(DID_WEB_PREFIX) :].split(":")
    if not host or any(not segment for segment in segments):
        raise InvalidDid(f"did:web DID {did!r} has an empty host or path segment.")
    host = unquote(host)
    if "/" in host or "@" in host:
        raise InvalidDid(f"did:web DID {did!r} has an invalid host {host!r}.")
    path = "/".join(segments) if segments else ".well-known"
    return f"{scheme}://{host}/{path}/did.json"


def build_did_document(did: str, methods: Iterable[PublishedMethod]) -> dict[str, Any]:
    """Return the DID document listing ``methods`` under their relationships.

    Every method appears in ``verificationMethod`` with its type, controller
    and public key, and its id appears under each relationship it holds, in
    the order given.
    """
    document: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [],
    }
    relationships: dict[str, list[str]] = {}
    for method in methods:
        entry: dict[str, Any] = {
            "id": method.id,
            "type": MULTIKEY_TYPE,
            "controller": did,
            "publicKeyMultibase": method.public_key_multibase,
        }
        entry.update(method.history())
        document["verificationMethod"].append(entry)
        for relationship in method.relationships:
            relationships.setdefault(relationship, []).append(method.id)
    for relationship in (ASSERTION_METHOD, AUTHENTICATION, CAPABILITY_INVOCATION):
        if relationship in relationships:
            document[relationship] = relationships[relationship]
    return document


class CachedDidResolver:
    """Resolves did:key locally and did:web from documents already at hand.

    :param documents: did:web documents by DID, for example the platform's
        own organisations read from the database. A did:web DID that is not
        in it is not resolved (never fetched).
    :param did_key_history: history fields (``compromised`` and the like,
        see :class:`PublishedMethod`) of did:key verification methods, by
        id. A did:key document cannot carry them itself, so the resolver
        adds them to the method.
    """

    def __init__(
        self,
        documents: Mapping[str, dict[str, Any]] | None = None,
        did_key_history: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._documents = dict(documents or {})
        self._history = dict(did_key_history or {})

    def __call__(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did``.

        :raises InvalidDid: for an unsupported method or an unknown did:web.
        """
        if did.startswith(DID_KEY_PREFIX):
            document = resolve_did_key(did)
            for method in document["verificationMethod"]:
                method.update(self._history.get(method["id"], {}))
            return document
        if did.startswith(DID_WEB_PREFIX):
            cached = self._documents.get(did)
            if cached is None:
                raise InvalidDid(
                    f"did:web {did!r} is not one of the cached DID documents, "
                    "and DID documents are never fetched while verifying."
                )
            return cached
        raise InvalidDid(
            f"DID {did!r} uses an unsupported method; expected did:key or did:web."
        )
