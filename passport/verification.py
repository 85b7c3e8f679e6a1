"""Verification as the command line and the platform run it.

This wraps :mod:`verifier` with what a deployment adds: reading wallet QR
payloads, telling credentials from presentations, and the platform's own
records: the partnership's issuers (both DIDs of each), the did:web
documents of its organisations with their key history, and their status
lists. Nothing here fetches from the network: a did:web or status
list URL the platform does not hold fails its check.
"""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from credentials.status_list import Bitstring
from keys.did_web import CachedDidResolver
from passport.settings import database_url_from_env
from verifier import (
    IssuerRegistry,
    TrustedIssuer,
    verify_credential,
    verify_presentation,
)
from verifier.inputs import is_presentation, parse_input
from verifier.results import VerificationResult
from verifier.status import CachedStatusList, StatusListCache

__all__ = [
    "PlatformStatusListStore",
    "is_presentation",
    "parse_input",
    "platform_sources",
    "registry_from_database",
    "registry_from_engine",
    "sources_from_engine",
    "verify_text",
]

logger = logging.getLogger(__name__)


def registry_from_database(database_url: str | None = None) -> IssuerRegistry:
    """Return the partnership's issuers from the database, if there is one.

    A missing SQLite file or an unmigrated database gives an empty registry
    (every issuer is then reported as unknown); the file is never created.
    """
    with platform_sources(database_url) as sources:
        registry: IssuerRegistry = sources["registry"]
        return registry


def registry_from_engine(engine: Engine) -> IssuerRegistry:
    """Return the partnership's issuers from the ``organisation`` table.

    Each organisation is listed under its did:web and under the did:key of
    its first key. An unmigrated or unreachable database gives an empty
    registry, so every issuer is then reported as unknown rather than the
    verification failing.
    """
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT did, did_key, name, slug, cstf_aligned FROM organisation")
            ).all()
    except SQLAlchemyError as error:
        logger.warning("issuer registry unavailable: %s", type(error).__name__)
        return IssuerRegistry()
    return IssuerRegistry(
        TrustedIssuer(did, name, slug, cstf_aligned=bool(aligned))
        for did_web, did_key, name, slug, aligned in rows
        for did in dict.fromkeys((did_web, did_key))
        if did
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


def sources_from_engine(engine: Engine) -> dict[str, Any]:
    """Return the verification options the platform's database supplies.

    The result contains ``registry``, ``resolve_did`` and ``status_lists``, ready
    to pass to :func:`verifier.verify_credential` and the other entry points.
    """
    registry = registry_from_engine(engine)
    documents: dict[str, dict[str, Any]] = {}
    did_key_history: dict[str, dict[str, str]] = {}
    try:
        from issuer.service import did_key_method_history, platform_did_documents

        with Session(engine) as session:
            documents = platform_did_documents(session)
            did_key_history = did_key_method_history(session)
    except SQLAlchemyError as error:
        logger.warning("platform DID documents unavailable: %s", type(error).__name__)
    return {
        "registry": registry,
        "resolve_did": CachedDidResolver(documents, did_key_history),
        "status_lists": StatusListCache(
            None, offline=True, store=PlatformStatusListStore(engine)
        ),
    }


@contextmanager
def platform_sources(database_url: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield :func:`sources_from_engine` for ``database_url``, then close it.

    A missing SQLite file gives empty sources; the file is never created.
    """
    url = database_url or database_url_from_env(dict(os.environ))
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        yield {
            "registry": IssuerRegistry(),
            "resolve_did": CachedDidResolver(),
            "status_lists": StatusListCache(None, offline=True),
        }
        return
    from passport.db import make_engine

    engine = make_engine(url)
    try:
        yield sources_from_engine(engine)
    finally:
        engine.dispose()


def verify_text(
    text: str,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    registry: IssuerRegistry | None = None,
) -> VerificationResult:
    """Verify the credential or presentation in ``text``.

    The platform's database (``DATABASE_URL``) supplies the issuers, did:web
    documents and status lists; ``registry`` replaces its issuers.

    :raises ValueError: if the text is unreadable, or is a presentation and
        ``challenge`` or ``domain`` is missing.
    """
    document = parse_input(text)
    if is_presentation(document) and (challenge is None or domain is None):
        raise ValueError(
            "The document is a presentation; pass the challenge and domain "
            "the verifier expects with --challenge and --domain."
        )
    with platform_sources() as sources:
        if registry is not None:
            sources["registry"] = registry
        if is_presentation(document):
            return verify_presentation(
                document, challenge=challenge, domain=domain, now=now, **sources
            )
        return verify_credential(document, now=now, **sources)
