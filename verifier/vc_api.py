"""The VC-API verifier endpoints' logic, without Flask.

``POST /credentials/verify`` takes ``{"verifiableCredential": {...},
"options": {}}`` and ``POST /presentations/verify`` takes
``{"verifiablePresentation": {...}, "options": {"challenge": "...",
"domain": "..."}}``. Both return ``{"verified", "checks", "warnings",
"errors"}``: 200 when verified, 400 when not or when the request is
malformed, 413 for an oversized body and 415 for a body that is not JSON.
Every response carries the full list of checks, failed ones included, and
no input makes them raise.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from credentials.errors import MalformedDocument
from credentials.proofs import DidResolver
from keys.did_key import resolve_did_key
from verifier.pipeline import (
    CREDENTIAL_CHECKS,
    MAX_DOCUMENT_BYTES,
    NOT_CHECKED,
    PRESENTATION_CHECKS,
    parse_json_document,
    verify_credential,
    verify_presentation,
)
from verifier.registry import IssuerRegistry
from verifier.results import VerificationResult
from verifier.status import StatusListCache

logger = logging.getLogger(__name__)

#: Largest request body, in bytes: the document limit plus room for the
#: envelope and options.
MAX_BODY_BYTES: Final = MAX_DOCUMENT_BYTES + 16 * 1024

CREDENTIAL_OPTIONS: Final[frozenset[str]] = frozenset()
PRESENTATION_OPTIONS: Final = frozenset({"challenge", "domain"})


@dataclass(frozen=True)
class ApiResponse:
    """An HTTP status and the JSON body to send with it."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Request:
    document: Any
    options: dict[str, Any]


class _RequestRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def is_json_media_type(mimetype: str | None) -> bool:
    """Return whether ``mimetype`` is JSON: application/json or ``+json``."""
    if not mimetype:
        return False
    kind, _, subtype = mimetype.lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def _parse_request(
    body: bytes, mimetype: str | None, field: str, allowed_options: frozenset[str]
) -> _Request:
    if not is_json_media_type(mimetype):
        raise _RequestRejected(
            415,
            f"The request's content type {mimetype or 'none'!r} is not JSON; send "
            "the body as application/json.",
        )
    if len(body) > MAX_BODY_BYTES:
        raise _RequestRejected(
            413,
            f"The request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}.",
        )
    try:
        request = parse_json_document(body, max_bytes=MAX_BODY_BYTES)
    except MalformedDocument as error:
        raise _RequestRejected(400, f"The request body is unusable: {error}") from error
    if not isinstance(request, dict):
        raise _RequestRejected(
            400,
            f"The request body is a JSON {type(request).__name__}, not an object; "
            f'send {{"{field}": {{...}}, "options": {{}}}}.',
        )
    if field not in request:
        raise _RequestRejected(
            400,
            f'The request has no "{field}"; send {{"{field}": {{...}}, "options": '
            "{}}.",
        )
    options = request.get("options", {})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise _RequestRejected(
            400, f'"options" is a JSON {type(options).__name__}; send an object.'
        )
    for name in ("challenge", "domain"):
        if name in allowed_options and name in options:
            if not isinstance(options[name], str):
                raise _RequestRejected(
                    400,
                    f"options.{name} is {options[name]!r:.60}; send it as a string.",
                )
    return _Request(document=request[field], options=options)


def _unknown_options(options: dict[str, Any], allowed: frozenset[str]) -> list[str]:
    return [
        f"Option {name!r} is not supported and was ignored."
        for name in options
        if name not in allowed
    ]


def _rejected(error: _RequestRejected, check_ids: tuple[str, ...]) -> ApiResponse:
    result = VerificationResult()
    result.add(check_ids[0], False, error.message)
    for check_id in check_ids[1:]:
        result.add(check_id, False, NOT_CHECKED)
    return _response(result, status=error.status, extra_warnings=[])


def _messages(result: VerificationResult, severity: str) -> list[str]:
    """Return the messages of the failed checks of ``severity``, each once.

    Rows that an earlier failure left unchecked share one message, which
    ``checks`` still shows row by row.
    """
    messages = [
        check.message
        for check in result.checks
        if not check.passed and check.severity == severity
    ]
    for index, inner in enumerate(result.credentials, start=1):
        messages.extend(f"Credential {index}: {m}" for m in _messages(inner, severity))
    return list(dict.fromkeys(messages))


def result_body(
    result: VerificationResult, extra_warnings: list[str] | None = None
) -> dict[str, Any]:
    """Return the JSON body of a verification response: ``verified``,
    ``checks`` (and ``credentials`` for a presentation), then ``warnings`` and
    ``errors`` with the message of each failed check of that severity."""
    body = result.to_json()
    body["warnings"] = (extra_warnings or []) + _messages(result, "warning")
    body["errors"] = _messages(result, "error")
    return body


def _response(
    result: VerificationResult, *, status: int | None = None, extra_warnings: list[str]
) -> ApiResponse:
    body = result_body(result, extra_warnings)
    if status is None:
        status = 200 if result.verified else 400
    return ApiResponse(status=status, body=body)


def verify_credential_request(
    body: bytes,
    mimetype: str | None,
    *,
    registry: IssuerRegistry,
    now: datetime,
    resolve_did: DidResolver = resolve_did_key,
    status_lists: StatusListCache | None = None,
) -> ApiResponse:
    """Handle ``POST /credentials/verify``; never raises for any body."""
    try:
        request = _parse_request(
            body, mimetype, "verifiableCredential", CREDENTIAL_OPTIONS
        )
    except _RequestRejected as error:
        return _rejected(error, CREDENTIAL_CHECKS)
    result = verify_credential(
        request.document,
        now=now,
        registry=registry,
        resolve_did=resolve_did,
        status_lists=status_lists,
    )
    return _response(
        result, extra_warnings=_unknown_options(request.options, CREDENTIAL_OPTIONS)
    )


def verify_presentation_request(
    body: bytes,
    mimetype: str | None,
    *,
    registry: IssuerRegistry,
    now: datetime,
    resolve_did: DidResolver = resolve_did_key,
    status_lists: StatusListCache | None = None,
) -> ApiResponse:
    """Handle ``POST /presentations/verify``; never raises for any body.

    ``options.challenge`` and ``options.domain`` are the values this
    verifier expects in the presentation's proof; without them those checks
    fail, because a presentation without them could be a replay.
    """
    try:
        request = _parse_request(
            body, mimetype, "verifiablePresentation", PRESENTATION_OPTIONS
        )
    except _RequestRejected as error:
        return _rejected(error, PRESENTATION_CHECKS)
    result = verify_presentation(
        request.document,
        challenge=request.options.get("challenge"),
        domain=request.options.get("domain"),
        now=now,
        registry=registry,
        resolve_did=resolve_did,
        status_lists=status_lists,
    )
    return _response(
        result, extra_warnings=_unknown_options(request.options, PRESENTATION_OPTIONS)
    )
