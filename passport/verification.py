"""Verification as the command line and the platform run it.

This wraps :mod:`verifier` with what a deployment adds: reading wallet QR
payloads, telling credentials from presentations, and the partnership's
issuers, DID documents and status lists from the database.
"""

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from credentials.errors import CredentialError, MalformedDocument
from credentials.qr_payload import decode_credential
from issuer.service import list_organisations
from keys.did_web import CachedDidResolver
from passport.settings import database_url_from_env
from verifier import (
    IssuerRegistry,
    TrustedIssuer,
    verify_credential,
    verify_presentation,
)
from verifier.pipeline import parse_json_document
from verifier.results import VerificationResult

logger = logging.getLogger(__name__)

QR_PREFIX = "SP1:"


def parse_input(text: str) -> Any:
    """Return the document in ``text``: JSON, or a wallet QR payload.

    :raises ValueError: if the text is neither, naming the problem.
    """
    stripped = text.strip()
    if stripped.upper().startswith(QR_PREFIX):
        try:
            return decode_credential(stripped)
        except CredentialError as error:
            raise ValueError(f"The QR payload is unreadable: {error}") from error
    try:
        return parse_json_document(stripped)
    except MalformedDocument as error:
        raise ValueError(str(error)) from error


def is_presentation(document: Any) -> bool:
    """Return whether ``document`` declares the type VerifiablePresentation."""
    if not isinstance(document, dict):
        return False
    types = document.get("type")
    listed = types if isinstance(types, list) else [types]
    return "VerifiablePresentation" in listed


class PlatformSources:
    """The verifier's view of this platform's database.

    It holds the partnership's issuers (both DIDs of each), the did:web
    documents of its organisations and their status lists. Nothing is fetched from the
    network: a DID or status list URL the platform does not hold fails its
    check.
    """

    def __init__(self, engine: Engine | None) -> None:
        self._engine = engine
        self.registry = IssuerRegistry()
        self.resolve_did = CachedDidResolver()
        if engine is not None:
            self._load(engine)

    def _load(self, engine: Engine) -> None:
        from issuer.service import organisation_dids, platform_did_documents
        from keys.history import compromised_did_key_methods

        try:
            with Session(engine) as session:
                issuers = [
                    TrustedIssuer(did, organisation.name, organisation.slug)
                    for organisation in list_organisations(session)
                    for did in organisation_dids(organisation)
                ]
                documents = platform_did_documents(session)
                revoked = compromised_did_key_methods(session)
        except SQLAlchemyError as error:
            logger.warning("platform issuers unavailable: %s", type(error).__name__)
            return
        self.registry = IssuerRegistry(issuers)
        self.resolve_did = CachedDidResolver(documents, revoked)

    def status_list(self, url: str) -> Any:
        """Return the platform's status list credential published at ``url``.

        :raises LookupError: if the platform publishes no list there.
        """
        from issuer.service import status_list_by_url

        if self._engine is None:
            raise LookupError("there is no platform database to read status lists from")
        with Session(self._engine) as session:
            status_list = status_list_by_url(session, url)
            document = status_list.document if status_list is not None else None
        if document is None:
            raise LookupError(
                "it is not a status list of this platform, and status lists "
                "elsewhere are not fetched"
            )
        return json.loads(document)


@contextmanager
def platform_sources(database_url: str | None = None) -> Iterator[PlatformSources]:
    """Yield the platform's issuers, DID documents and status lists.

    A missing SQLite file or an unmigrated database gives empty sources
    (every issuer is then reported as unknown); the file is never created.
    """
    url = database_url or database_url_from_env(dict(os.environ))
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        yield PlatformSources(None)
        return
    from passport.db import make_engine

    engine = make_engine(url)
    try:
        yield PlatformSources(engine)
    finally:
        engine.dispose()


def registry_from_database(database_url: str | None = None) -> IssuerRegistry:
    """Return the partnership's issuers from the database, if there is one."""
    with platform_sources(database_url) as sources:
        return sources.registry


def verify_text(
    text: str,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    sources: PlatformSources | None = None,
) -> VerificationResult:
    """Verify the credential or presentation in ``text``.

    :param sources: the platform's issuers, DID documents and status lists
        (default: read from ``DATABASE_URL``).
    :raises ValueError: if the text is unreadable, or is a presentation and
        ``challenge`` or ``domain`` is missing.
    """
    document = parse_input(text)
    if sources is None:
        with platform_sources() as loaded:
            return verify_text(
                text, challenge=challenge, domain=domain, now=now, sources=loaded
            )
    options: dict[str, Any] = {
        "now": now,
        "registry": sources.registry,
        "resolve_did": sources.resolve_did,
        "status_lists": sources.status_list,
    }
    if is_presentation(document):
        if challenge is None or domain is None:
            raise ValueError(
                "The document is a presentation; pass the challenge and domain "
                "the verifier expects with --challenge and --domain."
            )
        return verify_presentation(
            document, challenge=challenge, domain=domain, **options
        )
    return verify_credential(document, **options)
