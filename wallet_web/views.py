"""The staff wallet's pages: the credential list, one credential, its QR code."""

import base64
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, render_template

from accounts.auth import current_account, database_session, require_role
from accounts.roles import Role
from issuer.service import credential_states, pending_offers
from wallet_web.models import WalletCredential
from wallet_web.qr import TARGET_MAX_VERSION, credential_qr
from wallet_web.service import (
    CredentialNotFound,
    CredentialStatus,
    IssuerNames,
    find_wallet_credential,
    list_wallet_credentials,
    parsed_document,
    summarise_credential,
    with_issuer_states,
)

bp = Blueprint("wallet", __name__, url_prefix="/wallet", template_folder="templates")


def _issuer_names() -> IssuerNames:
    """Return a lookup of partnership members' names by DID."""
    registry = current_app.extensions["platform"].issuer_registry()

    def name_of(did: str) -> str | None:
        member = registry.lookup(did)
        return member.name if member is not None else None

    return name_of


def _wallet_id() -> int | None:
    account = current_account()
    return account.wallet_id if account is not None else None


def _owned_credential(public_id: str) -> WalletCredential:
    """Return the signed-in holder's credential, or answer 404.

    Someone else's credential is "not found" too, so that ids cannot be
    probed for existence.
    """
    wallet_id = _wallet_id()
    if wallet_id is None:
        abort(404)
    with database_session() as db:
        try:
            return find_wallet_credential(db, wallet_id, public_id)
        except CredentialNotFound:
            abort(404)


@bp.get("/")
@require_role(Role.STAFF)
def index() -> str:
    """List the holder's credentials with a status badge each."""
    wallet_id = _wallet_id()
    credentials = []
    issuer_states: dict[str, str] = {}
    offers = 0
    if wallet_id is not None:
        with database_session() as db:
            credentials = list_wallet_credentials(
                db, wallet_id, datetime.now(UTC), _issuer_names()
            )
            # The issuers' later decisions: superseded by a newer completion,
            # revoked or suspended.
            issuer_states = credential_states(
                db, [credential.credential_id for credential in credentials]
            )
            credentials = with_issuer_states(credentials, issuer_states)
            offers = len(pending_offers(db, wallet_id))
    counts = {status: 0 for status in CredentialStatus}
    for credential in credentials:
        counts[credential.status] += 1
    return render_template(
        "wallet/index.html",
        credentials=credentials,
        counts=counts,
        has_wallet=wallet_id is not None,
        issuer_states=issuer_states,
        offers=offers,
    )


@bp.get("/credentials/<public_id>")
@require_role(Role.STAFF)
def credential(public_id: str) -> str:
    """Show one credential and its QR code."""
    row = _owned_credential(public_id)
    summary = summarise_credential(row, datetime.now(UTC), _issuer_names())
    with database_session() as db:
        states = credential_states(db, [summary.credential_id])
    summary = with_issuer_states([summary], states)[0]
    qr = credential_qr(parsed_document(row))
    return render_template(
        "wallet/credential.html",
        credential=summary,
        qr=qr,
        qr_data_url="data:image/png;base64," + base64.b64encode(qr.png).decode(),
        qr_target_version=TARGET_MAX_VERSION,
    )


@bp.get("/credentials/<public_id>/qr.png")
@require_role(Role.STAFF)
def credential_qr_png(public_id: str) -> Response:
    """Return the credential's QR code as a PNG."""
    row = _owned_credential(public_id)
    qr = credential_qr(parsed_document(row))
    response = Response(qr.png, mimetype="image/png")
    response.headers["X-QR-Version"] = str(qr.version)
    return response


@bp.get("/credentials/<public_id>/credential.json")
@require_role(Role.STAFF)
def credential_file(public_id: str) -> Response:
    """Return the signed credential as a file, byte for byte as issued."""
    row = _owned_credential(public_id)
    # The file name says what the file is and nothing about its holder.
    name = f"credential-{public_id}.json"
    response = Response(row.document, mimetype="application/vc+ld+json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
