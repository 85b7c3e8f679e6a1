"""DID resolution for verification: did:key locally, did:web through the fence.

A ``did:web`` DID maps to an HTTPS URL (``did:web:host%3A8443:orgs:a`` is
``https://host:8443/orgs/a/did.json``; with no path it is
``/.well-known/did.json``). It is fetched only from the origins the trust
registry lists for that DID, and cached for ``max_age``. When the fetch
policy allows plain HTTP for local testing and the registry lists an
``http`` origin for the same host and port, that origin is used instead.

Each verification method may carry its own history, which the
``key-valid-at-issuance`` check reads: ``created`` (the key's first use),
``revoked`` (retired at rotation) and ``compromised`` (the instant from
which signatures are not to be trusted), all XSD dateTimeStamps.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from credentials.datamodel import as_list
from credentials.datetimes import parse_date_time_stamp
from credentials.errors import CredentialError
from keys.did_key import DID_KEY_PREFIX, resolve_did_key
from verifier.bounded_cache import BoundedCache
from verifier.errors import FetchError
from verifier.fetch import FencedFetcher
from verifier.registry import EMPTY_REGISTRY, IssuerRegistry, origin_of

DID_WEB_PREFIX = "did:web:"
DEFAULT_MAX_AGE = timedelta(minutes=10)
# did:web documents kept per process; the partnership has a few dozen
# members, so this bound is only reached by a stream of unknown DIDs.
MAX_CACHED_DID_DOCUMENTS = 1024


class DidResolutionError(Exception):
    """A DID that cannot be resolved."""


def did_web_url(did: str) -> str:
    """Return the HTTPS URL of a did:web DID's document.

    :raises DidResolutionError: if ``did`` is not a well-formed did:web.
    """
    if not did.startswith(DID_WEB_PREFIX):
        raise DidResolutionError(f"{did!r} is not a did:web DID.")
    parts = did[len(DID_WEB_PREFIX) :].split(":")
    host = unquote(parts[0])
    if not host or any(not part for part in parts) or "/" in host or "@" in host:
        raise DidResolutionError(f"did:web {did!r} is malformed.")
    segments = [unquote(part) for part in parts[1:]]
    if any("/" in segment or segment in (".", "..") for segment in segments):
        raise DidResolutionError(f"did:web {did!r} has an unsafe path segment.")
    path = "/".join(segments)
    if path:
        return f"https://{host}/{path}/did.json"
    return f"https://{host}/.well-known/did.json"


@dataclass(frozen=True)
class KeyPeriod:
    """When a verification method was allowed to sign."""

    method_id: str
    created: datetime | None = None
    revoked: datetime | None = None
    compromised: datetime | None = None


def key_period(did_document: dict[str, Any], method_id: str) -> KeyPeriod:
    """Return the history a DID document records for ``method_id``.

    A method without history fields (every did:key) has an open period.

    :raises DidResolutionError: if a history field is not a dateTimeStamp.
    """
    for method in as_list(did_document.get("verificationMethod", [])):
        if isinstance(method, dict) and method.get("id") == method_id:
            return KeyPeriod(
                method_id,
                created=_instant(method, "created", method_id),
                revoked=_instant(method, "revoked", method_id),
                compromised=_instant(method, "compromised", method_id),
            )
    return KeyPeriod(method_id)


def _instant(method: dict[str, Any], name: str, method_id: str) -> datetime | None:
    value = method.get(name)
    if value is None:
        return None
    try:
        return parse_date_time_stamp(value, field=f"{method_id} {name}")
    except CredentialError as error:
        raise DidResolutionError(str(error)) from error


class DidResolver:
    """Resolves did:key locally and did:web through the fenced fetcher.

    :param fetcher: None resolves did:key only.
    :param registry: lists the origins each did:web member may be fetched from.
    :param documents: DID documents known in advance, by DID (for example
        from an offline bundle); they are used without fetching.
    :param cache: fetched documents with the instant of the fetch, by DID;
        pass one cache to several resolvers so that they share fetches.
    """

    def __init__(
        self,
        fetcher: FencedFetcher | None = None,
        *,
        registry: IssuerRegistry = EMPTY_REGISTRY,
        max_age: timedelta = DEFAULT_MAX_AGE,
        documents: dict[str, dict[str, Any]] | None = None,
        cache: "BoundedCache[tuple[datetime, dict[str, Any]]] | None" = None,
    ) -> None:
        self.fetcher = fetcher
        self.registry = registry
        self.max_age = max_age
        self._documents = dict(documents or {})
        self._cache: BoundedCache[tuple[datetime, dict[str, Any]]] = (
            cache if cache is not None else BoundedCache(MAX_CACHED_DID_DOCUMENTS)
        )

    def __call__(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did``.

        :raises DidResolutionError: for an unsupported method, a did:web
            outside the fence, or a document that cannot be fetched.
        """
        if did.startswith(DID_KEY_PREFIX):
            try:
                return resolve_did_key(did)
            except Exception as error:
                raise DidResolutionError(str(error)) from error
        if did in self._documents:
            return self._documents[did]
        if not did.startswith(DID_WEB_PREFIX):
            raise DidResolutionError(
                f"DID method of {did!r} is not supported; use did:key or did:web."
            )
        return self._resolve_web(did)

    def _resolve_web(self, did: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        cached = self._cache.get(did)
        if cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        if self.fetcher is None and cached is not None:
            # Offline, an older copy is better than none; the key history in
            # it is what the issuer published when it was fetched.
            return cached[1]
        if self.fetcher is None:
            raise DidResolutionError(
                f"{did!r} is a did:web DID, and this verification runs offline "
                "with no cached copy of its document."
            )
        member = self.registry.lookup(did)
        origins = member.origins if member is not None else ()
        url = self._url_for(did, origins)
        try:
            fetched = self.fetcher.fetch_json(url, origins)
        except FetchError as error:
            raise DidResolutionError(str(error)) from error
        document = fetched.document
        if not isinstance(document, dict) or document.get("id") != did:
            raise DidResolutionError(
                f"The document at {url!r} is not the DID document of {did!r}."
            )
        self._cache.put(did, (now, document))
        return document

    def _url_for(self, did: str, origins: tuple[str, ...]) -> str:
        url = did_web_url(did)
        if not self.fetcher or not self.fetcher.policy.allow_http:
            return url
        https_origin = origin_of(url)
        for origin in origins:
            listed = origin_of(origin)
            if listed.startswith("http://") and listed[7:] == https_origin[8:]:
                return "http://" + url[len("https://") :]
        return url
