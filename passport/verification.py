"""Verification as the command line and the platform run it.

This wraps :mod:`verifier` with what a deployment adds: reading wallet QR
payloads, telling credentials from presentations, the partnership's trust
registry (the ``registry_member`` table, or a signed registry file loaded
for offline use), and where DID documents and status lists come from:

- the platform's own organisations: their did:web documents, key history
  and status lists are read from the database, with no request;
- any other issuer: its did:web document and status lists are fetched
  through :class:`verifier.fetch.FencedFetcher`, only from the origins the
  registry lists for that issuer, over HTTPS (plain HTTP only with
  ``PASSPORT_ALLOW_HTTP_FETCH=1``), within ``PASSPORT_FETCH_TIMEOUT`` and
  ``PASSPORT_FETCH_MAX_BYTES``. A URL outside those origins fails its check
  and no request is made. Fetched status lists are kept in the
  ``status_list_cache`` table with the instant of the fetch.

A signed registry file may embed its did:web members' DID documents. Those
are used with no request, online or offline, unless the DID is one of the
platform's own organisations.

In offline mode (``PASSPORT_OFFLINE=1`` or ``passport verify --offline``)
nothing is fetched: status lists come from that cache, however old, and the
report shows their age; a list that was never fetched fails closed.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from credentials.status_list import Bitstring
from keys.did_key import DID_KEY_PREFIX
from keys.did_web import CachedDidResolver
from passport.settings import FetchSettings, database_url_from_env
from verifier import IssuerRegistry, verify_credential, verify_presentation
from verifier.bounded_cache import BoundedCache
from verifier.did_resolution import MAX_CACHED_DID_DOCUMENTS, DidResolver
from verifier.errors import RegistryDocumentInvalid
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.inputs import is_presentation, parse_input
from verifier.registry_document import load_registry_credential
from verifier.results import VerificationResult
from verifier.status import (
    CachedStatusList,
    ListVerifier,
    MemoryStatusListStore,
    StatusListCache,
    StatusListStore,
    StatusUnavailable,
)
from verifier.status_store import DatabaseStatusListStore

__all__ = [
    "LayeredStatusListStore",
    "PlatformDidResolver",
    "PlatformStatusListStore",
    "PlatformStatusLists",
    "VerificationSources",
    "fetch_policy",
    "is_presentation",
    "load_registry_file",
    "parse_input",
    "platform_sources",
    "registry_from_database",
    "registry_from_engine",
    "sources_from_engine",
    "verify_text",
]

logger = logging.getLogger(__name__)


def registry_from_database(database_url: str | None = None) -> IssuerRegistry:
    """Return the partnership's trust registry from the database, if there is one.

    A missing SQLite file or an unmigrated database gives an empty registry
    (every issuer is then reported as unknown); the file is never created.
    """
    with platform_sources(database_url, offline=True) as sources:
        registry: IssuerRegistry = sources["registry"]
        return registry


def registry_from_engine(engine: Engine) -> IssuerRegistry:
    """Return the partnership's trust registry from the ``registry_member`` table.

    An unmigrated or unreachable database gives an empty registry, so every
    issuer is then reported as unknown rather than the verification failing.
    """
    from verifier.registry_service import load_registry

    try:
        with Session(engine) as session:
            return load_registry(session)
    except SQLAlchemyError as error:
        logger.warning("trust registry unavailable: %s", type(error).__name__)
        return IssuerRegistry()


def load_registry_file(
    path: Path, *, publisher_did: str, now: datetime
) -> IssuerRegistry:
    """Load a signed registry document exported with ``passport registry export``.

    :param publisher_did: the partnership DID the caller trusts to sign it.
    :raises ValueError: if the file cannot be read or the document fails
        verification, naming the file and the reason.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(
            f"Cannot read the registry file {str(path)!r}: {error}"
        ) from error
    try:
        return load_registry_credential(text, publisher_did=publisher_did, now=now)
    except RegistryDocumentInvalid as error:
        raise ValueError(f"Registry file {str(path)!r}: {error}") from error


def fetch_policy(settings: FetchSettings) -> FetchPolicy:
    """Return the fence limits the settings choose."""
    return FetchPolicy(
        timeout=settings.timeout,
        max_bytes=settings.max_bytes,
        allow_http=settings.allow_http,
    )


class PlatformStatusListStore:
    """The platform's own status lists, read from the ``status_list`` table.

    They are the issuer's current lists, so verification uses them as they
    stand; a list the platform does not publish is not found here.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, url: str) -> CachedStatusList | None:
        """Return the list published at ``url``, or None."""
        from issuer.service import status_list_record

        try:
            with Session(self.engine) as session:
                found = status_list_record(session, url)
        except SQLAlchemyError as error:
            logger.warning("status list store unavailable: %s", type(error).__name__)
            return None
        if found is None:
            return None
        issuer, purpose, bits, signed_at = found
        return CachedStatusList(
            url=url,
            issuer=issuer,
            purpose=purpose,
            bitstring=Bitstring(bits),
            fetched_at=signed_at,
        )

    def put(self, entry: CachedStatusList) -> None:
        """Keep nothing, because the database already stores the issuer's lists."""


class LayeredStatusListStore:
    """A per-process memory store in front of a shared store.

    Reading the database and decoding a list costs about as much as
    verifying a credential, so each process keeps the decoded lists it has
    read. Both layers hold the same ``fetched_at``, so the cache's freshness
    rule returns the same result whichever layer the list came from.
    """

    def __init__(self, memory: StatusListStore, shared: StatusListStore) -> None:
        self.memory = memory
        self.shared = shared

    def get(self, url: str) -> CachedStatusList | None:
        """Return the list from memory, else from the shared store."""
        entry = self.memory.get(url)
        if entry is None:
            entry = self.shared.get(url)
            if entry is not None:
                self.memory.put(entry)
        return entry

    def put(self, entry: CachedStatusList) -> None:
        """Keep a newly fetched list in both layers."""
        self.memory.put(entry)
        self.shared.put(entry)


class PlatformStatusLists(StatusListCache):
    """Status lists: the platform's own from its database, others fetched.

    A list the platform publishes is read from the ``status_list`` table
    with no request. Any other list goes through the fenced fetcher (or, in
    offline mode, the cache only) as :class:`StatusListCache` does.

    :param own_urls: the URLs of the lists the platform publishes; only
        these are looked up in ``own_lists``.
    """

    def __init__(
        self,
        fetcher: FencedFetcher | None,
        *,
        own_lists: StatusListStore,
        own_urls: frozenset[str],
        store: StatusListStore,
        offline: bool = False,
    ) -> None:
        super().__init__(fetcher, offline=offline, store=store)
        self.own_lists = own_lists
        self.own_urls = own_urls

    def get(
        self,
        url: str,
        *,
        issuer: str,
        purpose: str,
        allowed_origins: tuple[str, ...],
        now: datetime,
        verify_list: ListVerifier | None = None,
    ) -> CachedStatusList:
        """Return the list at ``url`` from the database, the cache or the fence.

        :raises StatusUnavailable: naming why the list cannot be used.
        """
        own = self.own_lists.get(url) if url in self.own_urls else None
        if own is not None:
            if own.issuer != issuer or own.purpose != purpose:
                raise StatusUnavailable(
                    f"The status list at {url!r} is the {own.purpose} list of "
                    f"{own.issuer!r}, not a {purpose} list of {issuer!r}."
                )
            return own
        return super().get(
            url,
            issuer=issuer,
            purpose=purpose,
            allowed_origins=allowed_origins,
            now=now,
            verify_list=verify_list,
        )


class PlatformDidResolver:
    """Resolves did:key and the platform's own did:web DIDs from the
    database, and any other did:web through the fence.

    :param local: resolves did:key (with the key history the platform
        recorded) and the platform's did:web documents.
    :param own_dids: the did:web DIDs that ``local`` has documents for.
    :param remote: resolves other did:web DIDs from the registry's
        embedded documents or through the fence; None resolves nothing
        else, so such a DID fails its check.
    """

    def __init__(
        self,
        local: CachedDidResolver,
        own_dids: frozenset[str],
        remote: DidResolver | None,
    ) -> None:
        self.local = local
        self.own_dids = own_dids
        self.remote = remote

    def __call__(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did``.

        :raises Exception: the resolver's error naming why ``did`` could not
            be resolved; the pipeline reports it as a failed check.
        """
        if (
            did.startswith(DID_KEY_PREFIX)
            or did in self.own_dids
            or self.remote is None
        ):
            return self.local(did)
        return self.remote(did)


class VerificationSources:
    """The verification options one process uses, with its fetcher and caches.

    Keep one per process (the web app keeps one per worker), so that the
    HTTP connection pool and the fetched DID documents are reused.
    :meth:`sources` reads the registry and the platform's own documents
    afresh each time, so a registry change applies to the next verification.

    :param engine: the platform's database; None for a verification with
        no database (a registry file must then name the issuers).
    :param offline: fetch nothing, even if the settings allow fetching.
    """

    def __init__(
        self,
        engine: Engine | None,
        settings: FetchSettings,
        *,
        offline: bool = False,
    ) -> None:
        self.engine = engine
        self.offline = offline or settings.offline
        self.fetcher = None if self.offline else FencedFetcher(fetch_policy(settings))
        self._did_cache: BoundedCache[tuple[datetime, dict[str, Any]]] = BoundedCache(
            MAX_CACHED_DID_DOCUMENTS
        )
        self._memory_lists = MemoryStatusListStore()
        self._stored_lists: StatusListStore = self._memory_lists
        if engine is not None:
            self._stored_lists = LayeredStatusListStore(
                self._memory_lists, DatabaseStatusListStore(engine)
            )

    def close(self) -> None:
        """Close the fetcher's connection pool."""
        if self.fetcher is not None:
            self.fetcher.close()

    def sources(self, registry: IssuerRegistry | None = None) -> dict[str, Any]:
        """Return ``registry``, ``resolve_did`` and ``status_lists``, ready to
        pass to :func:`verifier.verify_credential` and the other entry points.

        :param registry: a registry to use instead of the database's, such
            as one loaded from a signed registry file.
        """
        documents: dict[str, dict[str, Any]] = {}
        did_key_history: dict[str, dict[str, str]] = {}
        own_lists: StatusListStore = MemoryStatusListStore()
        own_urls: frozenset[str] = frozenset()
        if self.engine is not None:
            if registry is None:
                registry = registry_from_engine(self.engine)
            try:
                from issuer.models import StatusList
                from issuer.service import (
                    did_key_method_history,
                    platform_did_documents,
                )

                with Session(self.engine) as session:
                    documents = platform_did_documents(session)
                    did_key_history = did_key_method_history(session)
                    own_urls = frozenset(session.exec(select(StatusList.url)))
            except SQLAlchemyError as error:
                logger.warning(
                    "platform DID documents unavailable: %s", type(error).__name__
                )
            own_lists = PlatformStatusListStore(self.engine)
        registry = registry if registry is not None else IssuerRegistry()
        # The partnership signed the registry's embedded documents, so they
        # are used before any fetch. Only issuers without one are fetched.
        remote = DidResolver(
            self.fetcher,
            registry=registry,
            max_age=timedelta(minutes=10),
            documents=registry.did_documents,
            cache=self._did_cache,
        )
        return {
            "registry": registry,
            "resolve_did": PlatformDidResolver(
                CachedDidResolver(documents, did_key_history),
                frozenset(documents),
                remote,
            ),
            "status_lists": PlatformStatusLists(
                self.fetcher,
                own_lists=own_lists,
                own_urls=own_urls,
                store=self._stored_lists,
                offline=self.offline,
            ),
        }


def sources_from_engine(
    engine: Engine, settings: FetchSettings | None = None
) -> dict[str, Any]:
    """Return the verification options for the platform's database.

    The result contains ``registry``, ``resolve_did`` and ``status_lists``.
    Each call makes a new fetcher; a long-running process keeps one
    :class:`VerificationSources` instead.

    :param settings: the fetch settings; default: read from the environment.
    """
    return VerificationSources(engine, settings or FetchSettings.from_env()).sources()


@contextmanager
def platform_sources(
    database_url: str | None = None,
    *,
    offline: bool = False,
    registry: IssuerRegistry | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield verification options for ``database_url``, then close them.

    A database that ``passport init`` has not created (see
    :func:`passport.db.check_database`) gives sources with no database and
    creates no file. Without ``registry`` they hold an empty registry and no
    status lists, so the status check is a warning that live status was not
    checked, because with no trusted issuer there is no origin to fetch
    lists from.
    With ``registry`` (a signed registry file) its members' status lists are
    fetched as usual.

    :param offline: fetch nothing; status lists come from the cache only.
    :param registry: use this registry instead of the database's.
    """
    from passport.db import DatabaseNotInitialised, check_database, make_engine

    settings = FetchSettings.from_env()
    url = database_url or database_url_from_env(dict(os.environ))
    engine = None
    try:
        check_database(url)
    except DatabaseNotInitialised:
        logger.info("verifying without the platform database")
    else:
        engine = make_engine(url)
    verification = VerificationSources(engine, settings, offline=offline)
    try:
        sources = verification.sources(registry)
        if engine is None and registry is None:
            sources["status_lists"] = None
        yield sources
    finally:
        verification.close()
        if engine is not None:
            engine.dispose()


def verify_text(
    text: str,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    registry: IssuerRegistry | None = None,
    offline: bool = False,
) -> VerificationResult:
    """Verify the credential or presentation in ``text``.

    The platform's database (``DATABASE_URL``) supplies the trust registry,
    its own did:web documents and status lists; other issuers' documents
    are fetched through the fence unless ``offline``.

    :param registry: replaces the database's registry, for example one
        loaded with :func:`load_registry_file`.
    :param offline: fetch nothing; status lists come from earlier fetches.
    :raises ValueError: if the text is unreadable, or is a presentation and
        ``challenge`` or ``domain`` is missing.
    """
    document = parse_input(text)
    if is_presentation(document) and (challenge is None or domain is None):
        raise ValueError(
            "The document is a presentation; pass the challenge and domain "
            "the verifier expects with --challenge and --domain."
        )
    with platform_sources(offline=offline, registry=registry) as sources:
        if is_presentation(document):
            return verify_presentation(
                document, challenge=challenge, domain=domain, now=now, **sources
            )
        return verify_credential(document, now=now, **sources)
