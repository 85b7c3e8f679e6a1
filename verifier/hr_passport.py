"""HR's passport pages: receive a shared passport, report on it, decide.

``/hr/passports/receive`` reads a staff member's share QR code from the
webcam, from a handheld scanner typing into a field, or from an uploaded
picture. The webcam frames are decoded on the server with zxing-cpp (the
page posts canvas snapshots to ``scan-frame``), so the page needs no
JavaScript decoder. A single credential's QR code (``SP1:...``) is
verified offline there too, with what offline verification cannot show.

``/hr/passports/<id>`` compares the received passport with a role profile:
each required subject accepted, expiring, expired, revoked or suspended,
missing or not accepted, with the reason. HR prints it, exports it as CSV,
records a decision per subject, and issues accepted subjects as the
organisation's own records. Passports are visible only to HR of the
organisation that received them.
"""

import logging
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlmodel import Session, col, select

from accounts.auth import current_account, database_session, require_role
from accounts.roles import Role
from audit.log import record_event
from issuer.service import (
    IssuerError,
    OrganisationNotFound,
    Recognition,
    get_organisation,
    issue_recognised_training,
)
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.forms import DecisionForm, IssueRecordsForm, ReceivePassportForm
from verifier.hr import current_sources
from verifier.inputs import is_qr_payload
from verifier.models import HrDecision
from verifier.passport_check import ShareLinkInvalid, VerifierContext
from verifier.qr_image import QrImageError, read_qr_text
from verifier.received_models import ReceivedPassport
from verifier.registry import origin_of
from verifier.registry_service import load_registry
from verifier.report import OUTCOME_LABELS, PassportReport, build_report
from verifier.reports import CHECK_TITLES, SubmissionError, verify_submission
from verifier.requirements import Profile, list_profiles, seed_profiles
from verifier.results import VerificationResult
from verifier.share_intake import (
    Receipt,
    find_received,
    presentation_problems,
    receive_passport,
    recent_received,
    registry_origins,
    stored_result,
)
from wallet_web.sharing import SharingError, present_share

logger = logging.getLogger(__name__)

bp = Blueprint(
    "hr_passport",
    __name__,
    url_prefix="/hr/passports",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

DECISIONS = {
    "accept": "Accept as held",
    "redo": "Must redo the training",
    "review": "Review before deciding",
}
#: Flask config key: let the fence fetch share links over plain HTTP, for
#: tests and demos on 127.0.0.1 only. ``PASSPORT_ALLOW_HTTP_FETCH=1`` does
#: the same for ``passport serve``.
ALLOW_HTTP_CONFIG = "PASSPORT_SHARE_FETCH_ALLOW_HTTP"
PRESENTATION_TITLES = {
    "well-formed": "Presentation format",
    "proof": "Holder's signature",
    "verification-method": "Signed by the holder's own key",
    "challenge": "Answers our challenge",
    "challenge-issued": "Challenge issued by us, unexpired and unused",
    "domain": "Made for this verifier",
    "holder-binding": "Every credential belongs to the presenter",
}


def _platform() -> Any:
    return current_app.extensions["platform"]


def _organisations() -> tuple[str, ...]:
    account = current_account()
    return account.organisations(Role.HR) if account is not None else ()


def _acting_organisation() -> str:
    """Return the organisation the HR account acts for, or abort with 403.

    NOTE: an account that is HR at several organisations acts for the first
    it was granted; the pages offer no choice yet.
    """
    organisations = _organisations()
    if not organisations:
        abort(403)
    return organisations[0]


def _actor() -> str:
    account = current_account()
    assert account is not None
    return account.email


def _verifier_context(db: Session, organisation_name: str) -> VerifierContext:
    sources = current_sources()
    # The share link is fetched within the platform's fetch limits, like
    # status lists; the app setting also allows plain HTTP for tests.
    fetch = _platform().settings.fetch
    allow_http = fetch.allow_http or bool(
        current_app.config.get(ALLOW_HTTP_CONFIG, False)
    )
    policy = FetchPolicy(
        timeout=fetch.timeout, max_bytes=fetch.max_bytes, allow_http=allow_http
    )
    return VerifierContext(
        domain=origin_of(_platform().settings.public_url),
        registry=sources["registry"],
        resolve_did=sources["resolve_did"],
        status_lists=sources["status_lists"],
        fetcher=FencedFetcher(policy),
        wallet_origins=registry_origins([sources["registry"], load_registry(db)]),
        verifier_name=organisation_name,
    )


def _present_locally(
    token: str, challenge: str, domain: str, verifier_name: str
) -> dict[str, Any]:
    """Return the presentation of a share link of this platform, made in
    process in its own transaction."""
    try:
        with database_session() as db:
            return present_share(
                db,
                _platform().key_store,
                token,
                challenge=challenge,
                domain=domain,
                verifier_name=verifier_name,
                now=datetime.now(UTC),
            )
    except SharingError as error:
        raise ShareLinkInvalid(f"The passport could not be received: {error}") from None


def _render_receive(form: ReceivePassportForm, status: int = 200, **extra: Any) -> Any:
    return render_template("hr/passport_receive.html", form=form, **extra), status


@bp.route("/receive", methods=["GET", "POST"])
@require_role(Role.HR)
def receive() -> Any:
    """Show the scanner; on POST, receive the passport the scanned code names."""
    organisation_slug = _acting_organisation()
    form = ReceivePassportForm()
    if not form.validate_on_submit():
        return _render_receive(form, 400 if form.is_submitted() else 200)
    text = (form.scanned.data or "").strip()
    upload = form.image.data
    if upload:
        try:
            text = read_qr_text(upload.read())
        except QrImageError as error:
            return _render_receive(form, 400, error=str(error))
    if not text:
        return _render_receive(
            form,
            400,
            error="Nothing was scanned; scan the QR code with the camera or the "
            "handheld scanner, or upload a picture of it.",
        )
    if is_qr_payload(text):
        return _verify_offline(text)

    now = datetime.now(UTC)
    with database_session() as db:
        try:
            organisation = get_organisation(db, organisation_slug)
        except OrganisationNotFound as error:
            return _render_receive(form, 400, error=str(error))
        context = _verifier_context(db, organisation.name)
        try:
            row = receive_passport(
                db,
                text,
                context=context,
                public_url=_platform().settings.public_url,
                local_wallet=_present_locally,
                receipt=Receipt(organisation_slug, _actor()),
                now=now,
            )
        except ShareLinkInvalid as error:
            db.rollback()
            # The message can contain the link, whose token is a secret.
            logger.info(
                "passport not received org=%s: %s",
                organisation_slug,
                type(error.__cause__ or error).__name__,
            )
            return _render_receive(form, 400, error=str(error))
        finally:
            context.fetcher.close()
        public_id = row.public_id
    return redirect(url_for("hr_passport.report", public_id=public_id))


def _verify_offline(text: str) -> Any:
    """Verify a single credential's QR payload and show the offline report."""
    try:
        report = verify_submission(
            text=text, now=datetime.now(UTC), **current_sources()
        )
    except SubmissionError as error:
        return _render_receive(
            ReceivePassportForm(formdata=None), 400, error=str(error)
        )
    return render_template(
        "hr/passport_receive.html",
        form=ReceivePassportForm(formdata=None),
        offline_report=report,
    )


@bp.post("/scan-frame")
@require_role(Role.HR)
def scan_frame() -> Response:
    """Decode one webcam frame; return ``{"text": ...}`` or ``{"text": null}``.

    The page posts the frame as the raw request body with its CSRF token in
    the ``X-CSRFToken`` header.
    """
    try:
        text = read_qr_text(request.get_data(cache=False))
    except QrImageError:
        return jsonify(text=None)
    return jsonify(text=text)


@bp.get("/")
@require_role(Role.HR)
def index() -> str:
    """List the passports this organisation received, newest first."""
    with database_session() as db:
        rows = recent_received(db, _organisations())
    # The name is read from the stored credentials, not kept in a column of
    # its own, so that deleting a received passport removes it everywhere.
    names = {row.public_id: _holder_name(stored_result(row)) for row in rows}
    return render_template("hr/passport_list.html", rows=rows, names=names)


def _received_or_404(db: Session, public_id: str) -> ReceivedPassport:
    row = find_received(db, public_id, _organisations())
    if row is None:
        abort(404)
    return row


def _profiles(db: Session) -> list[Profile]:
    profiles = list_profiles(db)
    if not profiles:
        seed_profiles(db)
        profiles = list_profiles(db)
    return profiles


def _chosen_profile(profiles: list[Profile], slug: str | None) -> Profile:
    for profile in profiles:
        if profile.slug == slug:
            return profile
    if slug:
        abort(404)
    return profiles[0]


def _build(
    row: ReceivedPassport, profile: Profile
) -> tuple[PassportReport, VerificationResult]:
    result = stored_result(row)
    # The report is as at receipt, when the checks ran, so that expiry
    # buckets agree with the validity checks.
    report = build_report(
        profile,
        result.credentials,
        now=row.received_at,
        presentation_problems=presentation_problems(result),
    )
    # Training credentials name their issuer by DID only; the registry has
    # the organisation's name.
    registry = current_sources()["registry"]
    for position, report_row in enumerate(report.rows):
        member = registry.lookup(report_row.issuer_name or None)
        if member is not None:
            report.rows[position] = replace(report_row, issuer_name=member.name)
    return report, result


def _holder_name(result: VerificationResult) -> str:
    for inner in result.credentials:
        subject = (inner.document or {}).get("credentialSubject")
        if isinstance(subject, dict) and isinstance(subject.get("name"), str):
            return str(subject["name"])
    return ""


def _latest_decisions(
    db: Session, report_id: str, profile_slug: str
) -> dict[str, HrDecision]:
    rows = db.exec(
        select(HrDecision)
        .where(
            HrDecision.report_id == report_id, HrDecision.profile_slug == profile_slug
        )
        .order_by(col(HrDecision.decided_at), col(HrDecision.id))
    ).all()
    return {row.subject_code: row for row in rows}


@bp.get("/<public_id>")
@require_role(Role.HR)
def report(public_id: str) -> str:
    """Show the passport report for the chosen role profile."""
    with database_session() as db:
        row = _received_or_404(db, public_id)
        profiles = _profiles(db)
        profile = _chosen_profile(profiles, request.args.get("profile"))
        passport_report, result = _build(row, profile)
        decisions = _latest_decisions(db, public_id, profile.slug)
    decision_form = DecisionForm(formdata=None, profile=profile.slug)
    issue_form = IssueRecordsForm(formdata=None, profile=profile.slug)
    return render_template(
        "hr/passport_report.html",
        row=row,
        profiles=profiles,
        profile=profile,
        report=passport_report,
        result=result,
        holder_name=_holder_name(result),
        titles={**CHECK_TITLES, **PRESENTATION_TITLES},
        decisions=decisions,
        decision_choices=DECISIONS,
        outcome_labels=OUTCOME_LABELS,
        decision_form=decision_form,
        issue_form=issue_form,
        presentation_verified=not presentation_problems(result),
        failed_credentials=sum(not inner.verified for inner in result.credentials),
        can_issue=not presentation_problems(result)
        and any(report_row.acceptable for report_row in passport_report.rows),
    )


@bp.get("/<public_id>/report.csv")
@require_role(Role.HR)
def report_csv(public_id: str) -> Response:
    """Return the passport report for the chosen profile as CSV."""
    with database_session() as db:
        row = _received_or_404(db, public_id)
        profile = _chosen_profile(_profiles(db), request.args.get("profile"))
        passport_report, _ = _build(row, profile)
    response = Response(passport_report.to_csv(), mimetype="text/csv")
    name = f"passport-report-{profile.slug}-{public_id}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/<public_id>/decisions")
@require_role(Role.HR)
def decide(public_id: str) -> Any:
    """Record HR's decision on each required subject that was given one."""
    form = DecisionForm()
    with database_session() as db:
        row = _received_or_404(db, public_id)
        if not form.validate_on_submit():
            abort(400)
        profile = _chosen_profile(_profiles(db), form.profile.data)
        passport_report, _ = _build(row, profile)
        chosen = {}
        for report_row in passport_report.rows:
            value = request.form.get(f"decision-{report_row.subject_code}", "")
            if value and value not in DECISIONS:
                flash(
                    f"Decision {value[:20]!r} for {report_row.subject_code} is not "
                    f"one of {', '.join(DECISIONS)}; nothing was recorded.",
                    "error",
                )
                return redirect(_report_url(public_id, profile.slug))
            if value == "accept" and not report_row.acceptable:
                # Only a credential the report accepts can be accepted as
                # held; a missing or refused subject needs redoing or review.
                flash(
                    f"{report_row.title} cannot be accepted as held: it is "
                    f"{report_row.label.lower()}. Choose 'must redo' or "
                    "'review'; nothing was recorded.",
                    "error",
                )
                return redirect(_report_url(public_id, profile.slug))
            if value:
                chosen[report_row.subject_code] = (report_row, value)
        if not chosen:
            flash("Choose a decision for at least one subject.", "error")
            return redirect(_report_url(public_id, profile.slug))
        now = datetime.now(UTC)
        for code, (report_row, value) in chosen.items():
            db.add(
                HrDecision(
                    report_id=public_id,
                    organisation_slug=row.organisation_slug,
                    profile_slug=profile.slug,
                    holder_did=row.holder_did,
                    subject_code=code,
                    outcome=report_row.outcome,
                    decision=value,
                    credential_id=report_row.credential_id,
                    note=(form.note.data or "").strip(),
                    decided_by=_actor(),
                    decided_at=now,
                )
            )
        record_event(
            db,
            "hr.decision.recorded",
            actor=_actor(),
            organisation=row.organisation_slug,
            target=public_id,
            details={
                "profile": profile.slug,
                "decisions": dict((code, value) for code, (_, value) in chosen.items()),
            },
        )
    flash(
        f"Decisions recorded for {len(chosen)} "
        f"{'subject' if len(chosen) == 1 else 'subjects'}.",
        "success",
    )
    return redirect(_report_url(public_id, profile.slug))


def _report_url(public_id: str, profile_slug: str) -> str:
    return url_for("hr_passport.report", public_id=public_id, profile=profile_slug)


def _completion_date(document: dict[str, Any] | None) -> date | None:
    subject = (document or {}).get("credentialSubject")
    value = subject.get("completionDate") if isinstance(subject, dict) else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@bp.post("/<public_id>/issue")
@require_role(Role.HR)
def issue(public_id: str) -> Any:
    """Issue the chosen accepted subjects as this organisation's own records.

    Only subjects the report accepts (expiring ones included) from a
    verified presentation can be issued. Each is issued for the subject and
    completion date the staff member holds.
    """
    form = IssueRecordsForm()
    with database_session() as db:
        row = _received_or_404(db, public_id)
        profile = _chosen_profile(_profiles(db), request.form.get("profile"))
        passport_report, result = _build(row, profile)
        acceptable = {r.subject_code: r for r in passport_report.rows if r.acceptable}
        form.subjects.choices = [(code, code) for code in acceptable]
        if presentation_problems(result) or not form.validate_on_submit():
            flash(
                "Pick at least one accepted subject of a verified passport to issue.",
                "error",
            )
            return redirect(_report_url(public_id, profile.slug))
        documents = {
            (inner.document or {}).get("id"): inner.document
            for inner in result.credentials
        }
        organisation = get_organisation(db, row.organisation_slug)
        issued, offered = [], 0
        for code in form.subjects.data:
            report_row = acceptable[code]
            document = documents.get(report_row.credential_id)
            completed = _completion_date(document)
            if completed is None or report_row.held_code is None:
                flash(
                    f"{report_row.title} states no completion date; it was not issued.",
                    "error",
                )
                continue
            try:
                outcome = issue_recognised_training(
                    db,
                    _platform().key_store,
                    organisation,
                    Recognition(
                        holder_did=row.holder_did,
                        display_name=_holder_name(result) or "Staff member",
                        subject_code=report_row.held_code,
                        completed=completed,
                        source_credential_id=report_row.credential_id,
                    ),
                    actor=_actor(),
                )
            except IssuerError as error:
                flash(f"{report_row.title} was not issued: {error}", "error")
                continue
            issued.append(outcome)
            offered += outcome.offered
    new = [outcome for outcome in issued if not outcome.already_issued]
    flash(
        f"Issued {len(new)} {'credential' if len(new) == 1 else 'credentials'} "
        f"as {organisation.name}"
        + (
            f"; {len(issued) - len(new)} had been issued before"
            if len(new) < len(issued)
            else ""
        )
        + (f"; {offered} offered to the staff member's wallet." if offered else "."),
        "success",
    )
    return redirect(_report_url(public_id, profile.slug))
