"""The wallet's presentation endpoint behind each one-time share link.

A verifier POSTs ``{"challenge": "...", "domain": "..."}`` (and optionally
``"verifier"``, its organisation's name for the holder's sharing history)
to the share URL ``/s/<token>`` and receives one presentation signed by the
holder's key over that challenge and domain. The endpoint is an API for
other systems, so it is exempt from CSRF tokens. It uses no session and
changes nothing but the link it consumes. Every failure is a 4xx JSON error
``{"error": message, "reason": code}``.
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request
from werkzeug.wrappers import Response

from accounts.auth import database_session
from wallet_web.sharing import ShareUnavailable, SharingError, present_share

logger = logging.getLogger(__name__)

bp = Blueprint("share_api", __name__, template_folder="templates")

#: The request body is a few hundred bytes; anything much larger is not one.
MAX_REQUEST_BYTES = 4096
REQUEST_FIELDS = frozenset({"challenge", "domain", "verifier"})
MAX_TOKEN_LENGTH = 64


def _error(status: int, reason: str, message: str) -> Response:
    # The message goes under "error", where verifier.fetch reads a refusal's
    # reason and passes it on to HR.
    response = jsonify(error=message, reason=reason)
    response.status_code = status
    return response


def parse_request_body(body: bytes) -> dict[str, Any]:
    """Return the verifier's request as a dict of the known fields.

    :raises SharingError: if the body is not one JSON object of
        :data:`REQUEST_FIELDS`, or ``verifier`` is not text.
    """
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise SharingError(
            f"The request body is not JSON ({error}); send "
            '{"challenge": "...", "domain": "..."}.'
        ) from None
    if not isinstance(document, dict):
        raise SharingError(
            f"The request body is a JSON {type(document).__name__}, not an object; "
            'send {"challenge": "...", "domain": "..."}.'
        )
    unknown = sorted(set(document) - REQUEST_FIELDS)
    if unknown:
        raise SharingError(
            f"Unknown field(s) {', '.join(map(repr, unknown))}; the request takes "
            "only 'challenge', 'domain' and 'verifier'."
        )
    verifier = document.get("verifier")
    if verifier is not None and not isinstance(verifier, str):
        raise SharingError(
            f"verifier {verifier!r:.40} is not text; send the verifying "
            "organisation's name, or leave it out."
        )
    return document


@bp.get("/s/<token>")
def explain(token: str) -> tuple[str, int]:
    """Tell a person who opened the link in a browser how it is used.

    The link is not consumed: only a verifier's POST uses it.
    """
    return render_template("wallet/share_explain.html"), 200


@bp.post("/s/<token>")
def present(token: str) -> Response:
    """Return the presentation for one verifier request, once."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return _error(404, "not-found", "This share link is not known.")
    if not request.is_json:
        return _error(
            415,
            "unsupported-media-type",
            f"The request's Content-Type is {request.content_type!r}; send "
            "application/json.",
        )
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return _error(
            413,
            "too-large",
            f"The request body is over {MAX_REQUEST_BYTES} bytes; send only "
            "the challenge and domain.",
        )
    body = request.get_data(cache=False)[: MAX_REQUEST_BYTES + 1]
    if len(body) > MAX_REQUEST_BYTES:
        return _error(
            413,
            "too-large",
            f"The request body is over {MAX_REQUEST_BYTES} bytes; send only "
            "the challenge and domain.",
        )
    platform = current_app.extensions["platform"]
    try:
        fields = parse_request_body(body)
        with database_session() as db:
            presentation = present_share(
                db,
                platform.key_store,
                token,
                challenge=fields.get("challenge"),
                domain=fields.get("domain"),
                verifier_name=fields.get("verifier"),
                now=datetime.now(UTC),
            )
    except ShareUnavailable as error:
        logger.info("share link request rejected: %s", type(error).__name__)
        return _error(410, "share-unavailable", str(error))
    except SharingError as error:
        return _error(400, "invalid-request", str(error))
    response = jsonify(presentation)
    response.mimetype = "application/vp+ld+json"
    return response
