"""Verification as the command line and the platform run it.

This wraps :mod:`verifier` with what a deployment adds: reading wallet QR
payloads, telling credentials from presentations, and the partnership's
issuers from the database.
"""

import logging
import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from passport.settings import database_url_from_env
from verifier import (
    IssuerRegistry,
    TrustedIssuer,
    verify_credential,
    verify_presentation,
)
from verifier.inputs import is_presentation, parse_input
from verifier.results import VerificationResult

__all__ = [
    "is_presentation",
    "parse_input",
    "registry_from_database",
    "registry_from_engine",
    "verify_text",
]

logger = logging.getLogger(__name__)


def registry_from_database(database_url: str | None = None) -> IssuerRegistry:
    """Return the partnership's issuers from the database, if there is one.

    A missing SQLite file or an unmigrated database gives an empty registry
    (every issuer is then reported as unknown); the file is never created.
    """
    url = database_url or database_url_from_env(dict(os.environ))
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or not Path(parsed.database).exists()
    ):
        return IssuerRegistry()
    from passport.db import make_engine

    engine = make_engine(url)
    try:
        return registry_from_engine(engine)
    finally:
        engine.dispose()


def registry_from_engine(engine: Engine) -> IssuerRegistry:
    """Return the partnership's issuers from the ``organisation`` table.

    An unmigrated or unreachable database gives an empty registry, so every
    issuer is then reported as unknown rather than the verification failing.
    """
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT did, name, slug, cstf_aligned FROM organisation")
            )
            return IssuerRegistry(
                TrustedIssuer(did, name, slug, cstf_aligned=bool(aligned))
                for did, name, slug, aligned in rows
            )
    except SQLAlchemyError as error:
        logger.warning("issuer registry unavailable: %s", type(error).__name__)
        return IssuerRegistry()


def verify_text(
    text: str,
    *,
    challenge: str | None,
    domain: str | None,
    now: datetime,
    registry: IssuerRegistry | None = None,
) -> VerificationResult:
    """Verify the credential or presentation in ``text``.

    :raises ValueError: if the text is unreadable, or is a presentation and
        ``challenge`` or ``domain`` is missing.
    """
    document = parse_input(text)
    registry = registry if registry is not None else registry_from_database()
    if is_presentation(document):
        if challenge is None or domain is None:
            raise ValueError(
                "The document is a presentation; pass the challenge and domain "
                "the verifier expects with --challenge and --domain."
            )
        return verify_presentation(
            document, challenge=challenge, domain=domain, now=now, registry=registry
        )
    return verify_credential(document, now=now, registry=registry)
