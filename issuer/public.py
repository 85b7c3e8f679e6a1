"""Public documents of the issuers: DID documents and status lists.

``GET /orgs/SLUG/did.json`` serves the organisation's did:web document and
``GET /orgs/SLUG/status/PURPOSE/N`` its signed status list credential. Both
need no sign-in and carry an ETag and Cache-Control. A request with a
matching ``If-None-Match`` gets 304, and cross-origin reads are allowed,
because verifiers anywhere fetch these documents.
"""

import hashlib
import json

from flask import Blueprint, Response, abort, request

from credentials.status_list import PURPOSES
from issuer.organisations import did_document, find_organisation
from issuer.status_lists import CACHE_SECONDS, status_list_document
from issuer.web import MAX_ROW_ID, db_session

bp = Blueprint("issuer_public", __name__)

JSON = "application/json"
VC_MEDIA_TYPES = (JSON, "application/vc+ld+json", "application/vc")
DID_MEDIA_TYPES = (JSON, "application/did+json", "application/did+ld+json")


@bp.get("/orgs/<slug>/did.json")
def did_document_view(slug: str) -> Response:
    """Serve an organisation's DID document, every key with its purposes."""
    with db_session() as session:
        organisation = find_organisation(session, slug)
        if organisation is None or not organisation.did.startswith("did:web:"):
            abort(404)
        document = did_document(session, organisation)
    body = json.dumps(document, indent=2)
    etag = hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    return _cacheable(body, etag, DID_MEDIA_TYPES)


@bp.get(f"/orgs/<slug>/status/<purpose>/<int(max={MAX_ROW_ID}):sequence>")
def status_list_view(slug: str, purpose: str, sequence: int) -> Response:
    """Serve a signed status list credential as stored after its last change."""
    if purpose not in PURPOSES:
        abort(404)
    with db_session() as session:
        status_list = status_list_document(session, slug, purpose, sequence)
        if status_list is None or status_list.document is None:
            abort(404)
        body, etag = status_list.document, status_list.etag or ""
    return _cacheable(body, etag, VC_MEDIA_TYPES)


def _cacheable(body: str, etag: str, media_types: tuple[str, ...]) -> Response:
    media_type = request.accept_mimetypes.best_match(media_types, default=JSON)
    response = Response(body, mimetype=media_type or JSON)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    # A matching If-None-Match turns the response into an empty 304.
    response.make_conditional(request)
    return response
