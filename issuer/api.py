"""VC-API issuer endpoints: ``POST /credentials/issue`` and ``/credentials/status``.

The request and response shapes follow the W3C CCG VC-API issuer
specification. Callers authenticate with an organisation's bearer token
(``Authorization: Bearer sp_...``) and act as that organisation only. The
token is checked before the request's fields, so a caller without one
learns nothing from validation messages. Every error is JSON with an
``error`` code and a ``message`` naming the problem, and no input gives a
500.
"""

import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlmodel import Session
from werkzeug.exceptions import HTTPException

from accounts.auth import client_address, throttle_secret
from accounts.service import (
    ClientFailureLimit,
    TooManyFailures,
    check_client_failures,
    record_client_failure,
)
from audit.log import record_event
from credentials.status_list import ENTRY_TYPE, LIST_TYPE, PURPOSES, REVOCATION
from credentials.suites import SUITES
from issuer.api_tokens import authenticate
from issuer.errors import (
    CredentialConflict,
    CredentialNotFound,
    CredentialRejected,
    IssuerForbidden,
    StatusChangeRejected,
)
from issuer.issuance import DEFAULT_CRYPTOSUITE, issue_credential
from issuer.models import ApiToken, Organisation
from issuer.status_lists import (
    REINSTATE,
    REVOKE,
    SUSPEND,
    change_status,
    find_issued_credential,
)
from issuer.web import db_session, services

logger = logging.getLogger(__name__)

bp = Blueprint("issuer_api", __name__)

MAX_BODY_BYTES = 256 * 1024
"""A credential to issue is a few kilobytes; larger bodies are rejected."""

API_REASON_DEFAULT = "Changed through the VC-API; the client gave no reason."

API_FAILURE_LIMIT = ClientFailureLimit("api-token", limit=30)
"""Failed token checks one client address may make in 15 minutes. Each one
is an audit entry, which can never be deleted, so a client past the limit
gets 429 without one."""


class ApiError(Exception):
    """An error response: HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[Response, int]:
    response = jsonify(error=error.code, message=error.message)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="staff-passport"'
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response, error.status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    return jsonify(
        error=error.name.lower().replace(" ", "_"), message=error.description
    ), status


@bp.post("/credentials/issue")
def issue_view() -> tuple[Response, int]:
    """Sign the credential in the body as the token's organisation: 201 or 400."""
    body = _json_body()
    with db_session() as session:
        token, organisation = _caller(session)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise ApiError(
                400,
                "invalid_request",
                f"'credential' is {_kind(credential)}; send the unsigned credential "
                "as a JSON object under 'credential'.",
            )
        options = body.get("options", {})
        if not isinstance(options, dict):
            raise ApiError(400, "invalid_request", "'options' must be a JSON object.")
        cryptosuite = options.get("cryptosuite", DEFAULT_CRYPTOSUITE)
        # A list or an object cannot be looked up in the suite table.
        if not isinstance(cryptosuite, str) or cryptosuite not in SUITES:
            raise ApiError(
                400,
                "invalid_options",
                f"Cryptosuite {cryptosuite!r} is not supported; use one of "
                f"{', '.join(sorted(SUITES))}.",
            )
        purposes = _status_purposes(options.get("credentialStatus"))
        try:
            signed = issue_credential(
                session,
                services().key_store,
                organisation,
                credential,
                cryptosuite=cryptosuite,
                status_purposes=purposes,
                actor=f"api-token:{token.id}",
            )
        except CredentialRejected as error:
            raise ApiError(400, "invalid_credential", str(error)) from error
        except IssuerForbidden as error:
            raise ApiError(403, "issuer_not_allowed", str(error)) from error
        except CredentialConflict as error:
            raise ApiError(409, "duplicate_credential", str(error)) from error
    logger.info("credential issued through the API org=%s", organisation.slug)
    return jsonify(verifiableCredential=signed), 201


@bp.post("/credentials/status")
def status_view() -> tuple[Response, int]:
    """Set or clear a credential's revocation or suspension status: 200."""
    body = _json_body()
    with db_session() as session:
        token, organisation = _caller(session)
        return _change_status(session, token, organisation, body)


def _change_status(
    session: Session, token: ApiToken, organisation: Organisation, body: dict[str, Any]
) -> tuple[Response, int]:
    credential_id = body.get("credentialId")
    if not isinstance(credential_id, str) or not credential_id:
        raise ApiError(
            400, "invalid_request", "'credentialId' must name the credential."
        )
    entry = body.get("credentialStatus")
    if isinstance(entry, list) and len(entry) == 1:
        entry = entry[0]
    if not isinstance(entry, dict):
        raise ApiError(
            400,
            "invalid_request",
            "'credentialStatus' must be an object such as {\"type\": "
            f'"{ENTRY_TYPE}", "statusPurpose": "revocation"}}.',
        )
    if entry.get("type", ENTRY_TYPE) not in (ENTRY_TYPE, LIST_TYPE):
        raise ApiError(
            400,
            "invalid_request",
            f"credentialStatus type {entry.get('type')!r} is not supported; use "
            f"{ENTRY_TYPE!r}.",
        )
    purpose = entry.get("statusPurpose")
    if purpose not in PURPOSES:
        raise ApiError(
            400,
            "invalid_request",
            f"statusPurpose {purpose!r} is not supported; use one of "
            f"{', '.join(PURPOSES)}.",
        )
    status = body.get("status")
    if not isinstance(status, bool):
        raise ApiError(
            400, "invalid_request", f"'status' must be true or false, not {status!r}."
        )
    reason = body.get("reason", API_REASON_DEFAULT)
    if not isinstance(reason, str) or not reason.strip():
        raise ApiError(400, "invalid_request", "'reason' must be a non-empty string.")

    try:
        credential = find_issued_credential(session, organisation, credential_id)
    except CredentialNotFound as error:
        raise ApiError(404, "not_found", str(error)) from error
    current = (
        credential.revoked_at is not None
        if purpose == REVOCATION
        else credential.suspended_at is not None
    )
    changed = current != status
    if changed:
        if purpose == REVOCATION:
            action = REVOKE if status else None
        else:
            action = SUSPEND if status else REINSTATE
        if action is None:
            raise ApiError(
                400,
                "status_rejected",
                f"Credential {credential_id!r} is revoked, and revocation is "
                "permanent; it cannot be set back to false.",
            )
        try:
            change_status(
                session,
                services().key_store,
                organisation,
                credential_id,
                action,
                reason=reason,
                actor=f"api-token:{token.id}",
            )
        except StatusChangeRejected as error:
            raise ApiError(400, "status_rejected", str(error)) from error
    return (
        jsonify(
            credentialId=credential_id,
            credentialStatus={"type": ENTRY_TYPE, "statusPurpose": purpose},
            status=status,
            changed=changed,
        ),
        200,
    )


def _caller(session: Session) -> tuple[ApiToken, Organisation]:
    address = client_address()
    try:
        check_client_failures(
            session, API_FAILURE_LIMIT, address, secret=throttle_secret()
        )
    except TooManyFailures as error:
        seconds = int(error.retry_after.total_seconds())
        raise ApiError(
            429, "too_many_requests", str(error), retry_after=seconds
        ) from error
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    token = authenticate(session, value.strip()) if scheme.lower() == "bearer" else None
    organisation = session.get(Organisation, token.organisation_id) if token else None
    if token is None or organisation is None:
        record_client_failure(
            session, API_FAILURE_LIMIT, address, secret=throttle_secret()
        )
        record_event(
            session,
            "api.authentication_failed",
            actor="anonymous",
            target=request.path,
            details={"scheme": scheme.lower()[:20] or None},
        )
        session.commit()
        logger.warning("API request with a missing or invalid bearer token")
        raise ApiError(
            401,
            "unauthorized",
            "Send an organisation's API token as 'Authorization: Bearer sp_...'; "
            "the token given is missing, unknown or revoked.",
        )
    return token, organisation


def _json_body() -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(
            413,
            "too_large",
            f"The request body is {request.content_length} bytes; the limit is "
            f"{MAX_BODY_BYTES}.",
        )
    data = request.get_data(cache=False)
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(
            413, "too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes."
        )
    try:
        body = json.loads(data)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8 text.") from None
    except json.JSONDecodeError as error:
        raise ApiError(
            400,
            "invalid_json",
            f"The body is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}.",
        ) from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "The body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    return body


def _status_purposes(option: Any) -> tuple[str, ...] | None:
    if option is None:
        return None
    entries = option if isinstance(option, list) else [option]
    purposes = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("type") != ENTRY_TYPE:
            raise ApiError(
                400,
                "invalid_options",
                'options.credentialStatus must be {"type": '
                f'"{ENTRY_TYPE}", "statusPurpose": ...}}, not {entry!r}.',
            )
        purpose = entry.get("statusPurpose")
        for single in purpose if isinstance(purpose, list) else [purpose]:
            if single not in PURPOSES:
                raise ApiError(
                    400,
                    "invalid_options",
                    f"statusPurpose {single!r} is not supported; use one of "
                    f"{', '.join(PURPOSES)}.",
                )
            if single not in purposes:
                purposes.append(single)
    return tuple(purposes)


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    return f"a {type(value).__name__}"
