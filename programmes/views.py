"""Pages of the leadership programme: the learner's portfolio, evidence
upload and download, and the assessor's queue with sign-off, return and
withdrawal.

Views parse the request and call :class:`programmes.service.Programmes`.
Every page needs a programme role. What a page shows follows the service's
checks (the learner, or a role for that learner), and every form carries a
CSRF token. Evidence files are only ever sent as attachments with
``nosniff`` and a sandboxing Content-Security-Policy, so a browser never
renders or runs them.
"""

import logging

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue

from accounts.auth import current_account, require_role
from programmes.errors import (
    EvidenceRejected,
    NotFound,
    PriorLearningRejected,
    SignOffRejected,
)
from programmes.evidence import ALLOWED_EXTENSIONS, MAX_EVIDENCE_BYTES, read_file
from programmes.labels import label, with_article
from programmes.roles import LEARNER_ROLE, PROGRAMME_LEAD_ROLE, STAFF_ROLES
from programmes.service import Programmes

logger = logging.getLogger(__name__)

bp = Blueprint(
    "programmes", __name__, url_prefix="/programmes", template_folder="templates"
)
PROGRAMME_ROLES = (LEARNER_ROLE, *STAFF_ROLES)
EXTENSION = "programmes"
bp.add_app_template_filter(label, "programme_label")
bp.add_app_template_filter(with_article, "with_article")


def programmes_service() -> Programmes:
    """Return the app's programmes service, made on first use."""
    from flask import current_app

    from passport.app import platform

    service = current_app.extensions.get(EXTENSION)
    if service is None:
        services = platform()
        workflows = current_app.extensions.get("workflows")
        service = Programmes(
            services.engine,
            services.key_store,
            data_dir=services.settings.data_dir,
            workflows=workflows,
        )
        current_app.extensions[EXTENSION] = service
    return service


def _account_id() -> int:
    account = current_account()
    assert account is not None
    return int(account.id)


@bp.get("/")
@require_role(*PROGRAMME_ROLES)
def index() -> ResponseReturnValue:
    """Send a learner to their portfolio and staff to their queue."""
    enrolments = programmes_service().enrolments_of(_account_id())
    if enrolments:
        return redirect(
            url_for("programmes.portfolio", reference=enrolments[0].reference)
        )
    return redirect(url_for("programmes.queue"))


@bp.get("/portfolio/<reference>")
@require_role(*PROGRAMME_ROLES)
def portfolio(reference: str) -> ResponseReturnValue:
    service = programmes_service()
    if not service.may_see(_account_id(), reference):
        abort(404)
    view = service.portfolio(reference)
    account = current_account()
    evidence_types = service.framework_for(reference).evidence_types
    return render_template(
        "programmes/portfolio.html",
        portfolio=view,
        is_learner=view.learner_account_id == _account_id(),
        is_lead=account is not None and account.has_role(PROGRAMME_LEAD_ROLE),
        withdrawable=service.withdrawable(_account_id(), reference),
        evidence_titles={kind: item.title for kind, item in evidence_types.items()},
        allowed=", ".join(ALLOWED_EXTENSIONS),
        max_mib=round(MAX_EVIDENCE_BYTES / 1024 / 1024, 1),
    )


@bp.post("/portfolio/<reference>/<competency>/evidence")
@require_role(*PROGRAMME_ROLES)
def add_evidence(reference: str, competency: str) -> ResponseReturnValue:
    service = programmes_service()
    if not service.may_see(_account_id(), reference):
        abort(404)
    upload = request.files.get("file")
    content = upload.read() if upload is not None and upload.filename else None
    try:
        service.add_evidence(
            reference,
            competency,
            account_id=_account_id(),
            evidence_type=request.form.get("evidence_type", ""),
            title=request.form.get("title", ""),
            text=request.form.get("text") or None,
            file_name=upload.filename if upload is not None and content else None,
            content=content,
        )
    except (EvidenceRejected, NotFound) as error:
        flash(str(error), "error")
    else:
        flash("Evidence added.", "success")
    return redirect(
        url_for("programmes.portfolio", reference=reference) + f"#{competency}"
    )


@bp.get("/evidence/<int:evidence_id>")
@require_role(*PROGRAMME_ROLES)
def download_evidence(evidence_id: int) -> ResponseReturnValue:
    service = programmes_service()
    try:
        item = service.evidence_file(evidence_id, account_id=_account_id())
        assert item.storage_name is not None and item.sha256 is not None
        content = read_file(service.data_dir, item.storage_name, item.sha256)
    except NotFound:
        abort(404)
    except EvidenceRejected as error:
        # The stored file is missing or changed: an operator restores it.
        logger.error("evidence file unavailable evidence=%s: %s", evidence_id, error)
        abort(410)
    response = Response(content, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = _attachment(item.file_name or "file")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _attachment(file_name: str) -> str:
    from urllib.parse import quote

    fallback = "".join(c if c.isalnum() or c in "._-" else "_" for c in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


@bp.get("/queue")
@require_role(*STAFF_ROLES)
def queue() -> ResponseReturnValue:
    service = programmes_service()
    items = service.assessor_queue(_account_id())
    return render_template("programmes/queue.html", items=items)


@bp.post("/portfolio/<reference>/<competency>/decision")
@require_role(*PROGRAMME_ROLES)
def decide(reference: str, competency: str) -> ResponseReturnValue:
    """Sign off, return with a comment, or withdraw a sign-off.

    Learners reach the service too, so a learner who tries to sign their own
    competency reads the service's reason instead of a bare 403.
    """
    service = programmes_service()
    if not service.may_see(_account_id(), reference):
        abort(404)
    action = request.form.get("action", "")
    comment = request.form.get("comment") or None
    try:
        if action == "sign":
            result = service.sign_off(
                reference,
                competency,
                account_id=_account_id(),
                rating=request.form.get("rating") or None,
                comment=comment,
            )
            message = (
                "Signed off; the credential is in the learner's wallet."
                if result.signed_off
                else f"Signature recorded; waiting for: {result.waiting_for}."
            )
        elif action == "return":
            service.return_competency(
                reference, competency, account_id=_account_id(), comment=comment or ""
            )
            message = "Returned to the learner with your comment."
        elif action == "withdraw":
            service.withdraw_sign_off(
                reference, competency, account_id=_account_id(), reason=comment or ""
            )
            message = "Sign-off withdrawn; the competency is open again."
        else:
            abort(400)
    except (SignOffRejected, NotFound) as error:
        flash(str(error), "error")
    else:
        flash(message, "success")
    account = current_account()
    is_staff = account is not None and account.has_role(*STAFF_ROLES)
    # The queue is for staff only, so everyone else returns to the portfolio.
    if request.form.get("next") == "portfolio" or not is_staff:
        return redirect(
            url_for("programmes.portfolio", reference=reference) + f"#{competency}"
        )
    return redirect(url_for("programmes.queue"))


@bp.post("/portfolio/<reference>/prior-learning")
@require_role(PROGRAMME_LEAD_ROLE)
def count_prior_learning(reference: str) -> ResponseReturnValue:
    """Verify a pasted competency credential (JSON or a wallet QR payload)
    and count it for the learner."""
    from passport.app import platform
    from verifier.inputs import parse_input

    service = programmes_service()
    if not service.may_see(_account_id(), reference):
        abort(404)
    try:
        document = parse_input(request.form.get("credential", ""))
        if not isinstance(document, dict):
            raise PriorLearningRejected("Paste one credential, not a list.")
        competency = service.count_prior_learning(
            reference,
            document,
            account_id=_account_id(),
            verification_sources=platform().verification_sources(),
        )
    except ValueError as error:
        flash(f"The credential is unreadable: {error}", "error")
    except (PriorLearningRejected, NotFound) as error:
        flash(str(error), "error")
    else:
        flash(f"Counted {competency} from the verified credential.", "success")
    return redirect(url_for("programmes.portfolio", reference=reference))
