"""The HR page: verify a credential from its QR code or JSON."""

import logging
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from flask import Blueprint, current_app, render_template

from accounts.auth import current_account, require_role
from accounts.roles import Role
from verifier.forms import VerifyCredentialForm
from verifier.registry import IssuerRegistry
from verifier.reports import SubmissionError, verify_submission

logger = logging.getLogger(__name__)

bp = Blueprint("hr", __name__, url_prefix="/hr", template_folder="templates")


class _RegistrySource(Protocol):
    def issuer_registry(self) -> IssuerRegistry: ...

    def verification_sources(self) -> dict[str, Any]: ...


def current_registry() -> IssuerRegistry:
    """Return the partnership's issuers from the app's database."""
    return cast(_RegistrySource, current_app.extensions["platform"]).issuer_registry()


def current_sources() -> dict[str, Any]:
    """Return the app's verification options: ``registry``, ``resolve_did``
    and ``status_lists``, as the platform's database supplies them."""
    platform = cast(_RegistrySource, current_app.extensions["platform"])
    return platform.verification_sources()


@bp.route("/verify", methods=["GET", "POST"])
@require_role(Role.HR)
def verify() -> Any:
    """Show the form; on POST, verify what was sent and show the report."""
    form = VerifyCredentialForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("hr/verify.html", form=form), status

    upload = form.image.data
    image = upload.read() if upload else None
    try:
        report = verify_submission(
            text=form.payload.data,
            image=image,
            now=datetime.now(UTC),
            **current_sources(),
        )
    except SubmissionError as error:
        return render_template("hr/verify.html", form=form, error=str(error)), 400

    account = current_account()
    logger.info(
        "hr verification account=%s source=%s verified=%s",
        account.id if account else None,
        report.source,
        report.verified,
    )
    return render_template("hr/verify.html", form=form, report=report)
