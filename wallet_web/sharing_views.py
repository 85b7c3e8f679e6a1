"""The wallet's sharing pages: share links, history, exports and deletion.

``/wallet/share`` makes a one-time link to a presentation of the chosen
credentials and shows it as a QR code and as text. The link's token is shown
on that page only: the database keeps its hash, so the page cannot be shown
again and a lost link is replaced by making a new one.
"""

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)

from accounts.auth import current_account, database_session, require_role
from accounts.roles import Role
from audit.log import record_event
from issuer.service import credential_states
from verifier.registry import origin_of
from wallet_web.forms import DeleteCredentialForm, ShareForm
from wallet_web.qr import render_qr
from wallet_web.service import (
    CredentialNotFound,
    CredentialStatus,
    find_wallet_credential,
    list_wallet_credentials,
    with_issuer_states,
)
from wallet_web.sharing import (
    SHARE_LIFETIME,
    SharingError,
    create_share,
    delete_credential,
    export_passport,
    sharing_history,
)
from wallet_web.views import _issuer_names

logger = logging.getLogger(__name__)

#: Share links stay under this many characters, so that a small QR code
#: and a handheld scanner read them easily.
MAX_SHARE_URL_LENGTH = 100

bp = Blueprint(
    "wallet_sharing", __name__, url_prefix="/wallet", template_folder="templates"
)


def _platform() -> Any:
    return current_app.extensions["platform"]


def _own_wallet_id() -> int:
    """Return the signed-in staff member's wallet id, or abort with 404."""
    account = current_account()
    if account is None or account.wallet_id is None:
        abort(404)
    return account.wallet_id


def _actor() -> str:
    account = current_account()
    return f"account:{account.id}" if account is not None else "anonymous"


def _download(document: Any, name: str) -> Response:
    response = Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.route("/share", methods=["GET", "POST"])
@require_role(Role.STAFF)
def share() -> Any:
    """Show the credential picker; on POST, make a one-time link and its QR."""
    wallet_id = _own_wallet_id()
    now = datetime.now(UTC)
    with database_session() as db:
        summaries = list_wallet_credentials(db, wallet_id, now, _issuer_names())
        states = credential_states(db, [s.credential_id for s in summaries])
    summaries = with_issuer_states(summaries, states)
    form = ShareForm()
    form.credentials.choices = [
        (summary.public_id, summary.title) for summary in summaries
    ]
    if not form.is_submitted():
        # The default choice is every credential still in date.
        form.credentials.data = [
            summary.public_id
            for summary in summaries
            if summary.status in (CredentialStatus.VALID, CredentialStatus.EXPIRING)
        ]
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        page = render_template(
            "wallet/share.html",
            form=form,
            summaries=summaries,
            lifetime_minutes=int(SHARE_LIFETIME.total_seconds() // 60),
        )
        return page, status

    chosen = set(form.credentials.data)
    credential_ids = [s.credential_id for s in summaries if s.public_id in chosen]
    with database_session() as db:
        try:
            new = create_share(db, wallet_id, credential_ids, now=now)
        except SharingError as error:
            page = render_template(
                "wallet/share.html",
                form=form,
                summaries=summaries,
                lifetime_minutes=int(SHARE_LIFETIME.total_seconds() // 60),
                error=str(error),
            )
            return page, 400
        expires_at = new.link.expires_at
    url = new.url(_platform().settings.public_url)
    if len(url) >= MAX_SHARE_URL_LENGTH:
        # The token is fixed at 22 characters, so only a long
        # PASSPORT_PUBLIC_URL makes the link this long.
        logger.warning(
            "share link is %d characters, not under %d; shorten PASSPORT_PUBLIC_URL",
            len(url),
            MAX_SHARE_URL_LENGTH,
        )
    qr = render_qr(url)
    return render_template(
        "wallet/share_link.html",
        url=url,
        qr=qr,
        qr_data_url="data:image/png;base64," + base64.b64encode(qr.png).decode(),
        expires_at=expires_at,
        shared=[s for s in summaries if s.public_id in chosen],
    )


@bp.get("/history")
@require_role(Role.STAFF)
def history() -> str:
    """List the wallet's share links: who received what, and when."""
    wallet_id = _own_wallet_id()
    now = datetime.now(UTC)
    with database_session() as db:
        links = sharing_history(db, wallet_id)
        summaries = list_wallet_credentials(db, wallet_id, now, _issuer_names())
    titles = {s.credential_id: s.title for s in summaries}
    entries = []
    for link in links:
        ids = json.loads(link.credential_ids)
        entries.append(
            {
                "created_at": link.created_at,
                "expires_at": link.expires_at,
                "used_at": link.used_at,
                "verifier_name": link.verifier_name,
                "verifier_domain": link.verifier_domain,
                "expired": link.used_at is None and link.expires_at <= now,
                # A credential deleted since is listed as such, not dropped.
                "titles": [
                    titles.get(cid, "A credential since deleted") for cid in ids
                ],
            }
        )
    return render_template("wallet/history.html", entries=entries)


@bp.get("/export.json")
@require_role(Role.STAFF)
def export_all() -> Response:
    """Return every credential and a presentation of them signed by the holder."""
    wallet_id = _own_wallet_id()
    domain = origin_of(_platform().settings.public_url)
    with database_session() as db:
        exported = export_passport(
            db, _platform().key_store, wallet_id, None, domain=domain
        )
    return _download(exported, "training-passport.json")


@bp.get("/credentials/<public_id>/export.json")
@require_role(Role.STAFF)
def export_one(public_id: str) -> Response:
    """Return one credential and a presentation of it signed by the holder."""
    wallet_id = _own_wallet_id()
    domain = origin_of(_platform().settings.public_url)
    with database_session() as db:
        try:
            row = find_wallet_credential(db, wallet_id, public_id)
        except CredentialNotFound:
            abort(404)
        exported = export_passport(
            db, _platform().key_store, wallet_id, [row.credential_id], domain=domain
        )
    return _download(exported, f"credential-{public_id}-export.json")


@bp.route("/credentials/<public_id>/delete", methods=["GET", "POST"])
@require_role(Role.STAFF)
def delete(public_id: str) -> Any:
    """Ask for confirmation; on POST, delete the credential from the wallet.

    The issuer's record and status entry are untouched, so the issuer can
    deliver the credential again.
    """
    wallet_id = _own_wallet_id()
    now = datetime.now(UTC)
    with database_session() as db:
        try:
            row = find_wallet_credential(db, wallet_id, public_id)
        except CredentialNotFound:
            abort(404)
        summary = next(
            s
            for s in list_wallet_credentials(db, wallet_id, now, _issuer_names())
            if s.public_id == public_id
        )
        credential_id = row.credential_id
    form = DeleteCredentialForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        page = render_template("wallet/delete.html", form=form, credential=summary)
        return page, status
    with database_session() as db:
        deleted = delete_credential(db, wallet_id, credential_id)
        if deleted:
            record_event(
                db,
                "wallet.credential.deleted",
                actor=_actor(),
                target=credential_id,
                details={"wallet": wallet_id},
            )
    flash(f"{summary.title} was deleted from your wallet.", "success")
    return redirect(url_for("wallet.index"))
