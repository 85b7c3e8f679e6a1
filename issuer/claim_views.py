"""The staff member's side of delivery: claim a code, accept or decline offers.

``/claim`` takes a one-time claim code. The link an employer hands out puts
the code after ``#``, which browsers never send to a server, so a small
script copies it into the form; the code can also be typed. A signed-in staff
member claims into their own wallet; anyone else creates an account, whose
new wallet receives the credentials. ``/claim/offers`` then lists each
offered credential with accept and decline buttons.
"""

import logging
from datetime import UTC, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from accounts.auth import (
    client_address,
    current_account,
    require_role,
    sign_in_account,
    throttle_secret,
)
from accounts.roles import Role
from accounts.service import (
    AccountError,
    ClientFailureLimit,
    TooManyFailures,
    check_client_failures,
    create_account,
    grant_role,
    link_wallet,
    record_client_failure,
)
from audit.log import record_event
from credentials.datetimes import parse_date_time_stamp
from credentials.errors import InvalidDateTime
from issuer.delivery import (
    accept_offer,
    decline_offer,
    pending_offers,
    redeem_claim_code,
)
from issuer.errors import ClaimCodeInvalid, CredentialNotFound
from issuer.forms import ClaimForm, OfferDecisionForm
from issuer.issuance import credential_document
from issuer.models import IssuedCredential, Organisation
from issuer.web import db_session, services

logger = logging.getLogger(__name__)

CLAIM_FAILURE_LIMIT = ClientFailureLimit("claim-code", limit=20)
"""Failed claims one client address may make in 15 minutes: unknown, used or
expired codes, and email addresses that already have an account. Codes carry
80 random bits, so the limit mostly bounds the audit entries that failures
add, which can never be deleted, and the probing of email addresses with a
valid code. It leaves room for a ward whose staff share one address."""

bp = Blueprint(
    "delivery",
    __name__,
    url_prefix="/claim",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


@bp.route("", methods=["GET", "POST"])
def claim() -> Response | str | tuple[str, int]:
    """Show the claim form; on POST, claim the credentials the code names."""
    account = current_account()
    form = ClaimForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("issuer/claim.html", form=form, account=account), status
    if account is None and not (form.email.data and form.password.data):
        error = "Give an email address and a password for your new account."
        page = render_template(
            "issuer/claim.html", form=form, account=account, error=error
        )
        return page, 400
    if account is not None and not account.has_role(Role.STAFF):
        error = "Sign in with a staff account to claim credentials."
        page = render_template(
            "issuer/claim.html", form=form, account=account, error=error
        )
        return page, 403

    failure = None
    failure_kind = ""
    with db_session() as session:
        try:
            check_client_failures(
                session, CLAIM_FAILURE_LIMIT, client_address(), secret=throttle_secret()
            )
        except TooManyFailures as error:
            page = render_template(
                "issuer/claim.html", form=form, account=account, error=str(error)
            )
            return page, 429
        try:
            result = redeem_claim_code(
                session,
                services().key_store,
                form.code.data,
                wallet_id=account.wallet_id if account else None,
                actor=f"account:{account.id}" if account else "anonymous",
            )
            if account is not None:
                if account.wallet_id is None:
                    link_wallet(session, account.id, result.wallet_id)
            else:
                new_account = create_account(
                    session,
                    email=form.email.data,
                    display_name=_holder_name(session, result.offered),
                    password=form.password.data,
                    wallet_id=result.wallet_id,
                )
                assert new_account.id is not None
                grant_role(session, new_account.id, Role.STAFF, None)
                sign_in_account(session, new_account)
        except (ClaimCodeInvalid, AccountError, ValueError) as error:
            session.rollback()
            failure = str(error)
            failure_kind = type(error).__name__
            record_client_failure(
                session, CLAIM_FAILURE_LIMIT, client_address(), secret=throttle_secret()
            )
            record_event(
                session,
                "claim.failed",
                actor=f"account:{account.id}" if account else "anonymous",
                details={"reason": failure_kind},
            )
    if failure is not None:
        # The message can name the email address typed, so only its kind
        # is logged.
        logger.warning("claim failed reason=%s", failure_kind)
        page = render_template(
            "issuer/claim.html", form=form, account=account, error=failure
        )
        return page, 400
    flash(
        f"{len(result.offered)} credentials are waiting for you below: accept the "
        "ones you want in your wallet.",
        "success",
    )
    return redirect(url_for("delivery.offers"))


def _holder_name(session: Session, offered: list[str]) -> str:
    """Return the name on the claimed credentials, for the new account."""
    for credential_id in offered:
        row = session.get(IssuedCredential, credential_id)
        if row is not None:
            subject = credential_document(row).get("credentialSubject", {})
            name = subject.get("name") if isinstance(subject, dict) else None
            if isinstance(name, str) and name:
                return name
    return "Staff member"


@bp.get("/offers")
@require_role(Role.STAFF)
def offers() -> str:
    """List the credentials offered to the staff member's wallet."""
    account = current_account()
    assert account is not None
    rows = []
    if account.wallet_id is not None:
        with db_session() as session:
            for offered in pending_offers(session, account.wallet_id):
                document = credential_document(offered)
                subject = document.get("credentialSubject", {})
                issuer = session.get(Organisation, offered.organisation_id)
                rows.append(
                    {
                        "id": offered.id,
                        "title": document.get("name", ""),
                        "issuer": issuer.name if issuer is not None else "",
                        "expired": _expired(offered.valid_until),
                        "subject_code": offered.subject_code,
                        "level": subject.get("level", ""),
                        "completed_on": offered.completed_on,
                        "valid_until": offered.valid_until,
                    }
                )
    return render_template("issuer/offers.html", rows=rows, form=OfferDecisionForm())


def _expired(valid_until: str | None) -> bool:
    """Return whether a signed ``validUntil`` text is in the past."""
    if not valid_until:
        return False
    try:
        return parse_date_time_stamp(valid_until) <= datetime.now(UTC)
    except InvalidDateTime:
        return False


@bp.post("/offers")
@require_role(Role.STAFF)
def decide() -> Response:
    """Accept or decline one offered credential."""
    account = current_account()
    assert account is not None
    form = OfferDecisionForm()
    if not form.validate_on_submit() or account.wallet_id is None:
        flash("That choice could not be read; try again.", "error")
        return redirect(url_for("delivery.offers"))
    actor = f"account:{account.id}"
    with db_session() as session:
        try:
            if form.decision.data == "accept":
                accept_offer(
                    session, account.wallet_id, form.credential_id.data, actor=actor
                )
                message = "Accepted: the credential is now in your wallet."
            else:
                decline_offer(
                    session, account.wallet_id, form.credential_id.data, actor=actor
                )
                message = "Declined: the credential stays out of your wallet."
        except CredentialNotFound as error:
            message = str(error)
    flash(message, "success")
    return redirect(url_for("delivery.offers"))
