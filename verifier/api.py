"""VC-API verifier endpoints: ``POST /credentials/verify`` and
``POST /presentations/verify``.

They are public: verifying reads nothing private and changes nothing, so
they take no session and no CSRF token (see ``CSRF_EXEMPT_BLUEPRINTS``).
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from verifier.hr import current_sources
from verifier.vc_api import (
    ApiResponse,
    verify_credential_request,
    verify_presentation_request,
)

logger = logging.getLogger(__name__)

bp = Blueprint("vc_api", __name__)


def _respond(handle: Callable[..., ApiResponse], endpoint: str) -> Response:
    outcome = handle(
        request.get_data(cache=False),
        request.mimetype,
        now=datetime.now(UTC),
        **current_sources(),
    )
    logger.info(
        "%s status=%d verified=%s", endpoint, outcome.status, outcome.body["verified"]
    )
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    return response


@bp.post("/credentials/verify")
def credentials_verify() -> Response:
    """Verify ``{"verifiableCredential": ..., "options": {}}``."""
    return _respond(verify_credential_request, "credentials/verify")


@bp.post("/presentations/verify")
def presentations_verify() -> Response:
    """Verify ``{"verifiablePresentation": ..., "options": {"challenge",
    "domain"}}``."""
    return _respond(verify_presentation_request, "presentations/verify")
