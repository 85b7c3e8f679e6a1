"""The issuer administrator's pages, one set per organisation they act for.

``/issuer/SLUG/`` shows the organisation's DIDs and keys. From there the
administrator uploads an export and follows its import, and searches the
issued credentials to revoke, suspend or reinstate them. The administrator
also rotates the signing key or marks a key compromised, creates claim codes
for staff, and reads the audit log. Every page needs the issuer
administrator role for that organisation, and every form carries a CSRF
token. Views only parse the request and call the issuer's service
functions.
"""

import base64
import logging
import secrets
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from sqlmodel import Session
from werkzeug.wrappers import Response

from accounts.auth import current_account, require_role
from accounts.roles import Role
from audit.log import entry_details, recent_entries, verify_chain
from issuer.delivery import claim_qr_png, create_claim_code, find_staff_record
from issuer.errors import IssuerError
from issuer.esr_export import ExportFormatError
from issuer.forms import (
    MAX_UPLOAD_BYTES,
    ClaimCodeForm,
    CompromiseForm,
    RotateKeyForm,
    StatusChangeForm,
    UploadExportForm,
)
from issuer.importer import (
    import_run,
    import_runs,
    import_training_export,
    reference_secret,
    start_import_run,
)
from issuer.models import Organisation
from issuer.organisations import (
    compromised_key_credentials,
    find_organisation,
    mark_key_compromised,
    rotate_key,
)
from issuer.records import PAGE_SIZE, STATUS_FILTERS, search_credentials
from issuer.signing import organisation_dids
from issuer.status_lists import change_status
from issuer.web import MAX_ROW_ID, db_session, row_number, services
from keys.history import methods_of

logger = logging.getLogger(__name__)

bp = Blueprint(
    "issuer_admin", __name__, url_prefix="/issuer", template_folder="templates"
)

AUDIT_PAGE_SIZE = 50


def _check_upload_csrf_in_view(state: BlueprintSetupState) -> None:
    # CSRFProtect checks every POST in a before_request hook, which parses the
    # form under the app's request size limit, before the upload view can
    # raise it. So the app-wide check skips that view, and the view runs the
    # same check itself once the limit is raised.
    state.app.extensions["csrf"].exempt(f"{__name__}.imports")


bp.record_once(_check_upload_csrf_in_view)


def _actor() -> str:
    account = current_account()
    return f"account:{account.id}" if account is not None else "anonymous"


def _organisation(session: Session, slug: str) -> Organisation:
    """Return the organisation, or 404 if the account does not administer it.

    An organisation the account does not act for is "not found" too, so
    slugs cannot be probed.
    """
    account = current_account()
    if account is None or not account.acts_for(slug, Role.ISSUER_ADMIN):
        abort(404)
    organisation = find_organisation(session, slug)
    if organisation is None:
        abort(404)
    return organisation


@bp.get("/")
@require_role(Role.ISSUER_ADMIN)
def index() -> Response | str:
    """Go to the first organisation the administrator acts for."""
    account = current_account()
    assert account is not None
    slugs = account.organisations(Role.ISSUER_ADMIN)
    if len(slugs) == 1:
        return redirect(url_for("issuer_admin.dashboard", slug=slugs[0]))
    return render_template("issuer/choose.html", slugs=slugs)


@bp.get("/<slug>/")
@require_role(Role.ISSUER_ADMIN)
def dashboard(slug: str) -> str:
    """Show the organisation's DIDs, keys and latest imports."""
    with db_session() as session:
        organisation = _organisation(session, slug)
        keys = [
            record
            for did in organisation_dids(organisation)
            for record in methods_of(session, did)
        ]
        runs = import_runs(session, organisation, limit=5)
        affected = compromised_key_credentials(session, organisation)
    compromise = CompromiseForm()
    compromise.method_id.choices = [(key.id, key.id) for key in keys]
    return render_template(
        "issuer/dashboard.html",
        organisation=organisation,
        dids=organisation_dids(organisation),
        keys=keys,
        runs=runs,
        affected=affected,
        rotate_form=RotateKeyForm(),
        compromise_form=compromise,
    )


@bp.post("/<slug>/keys/rotate")
@require_role(Role.ISSUER_ADMIN)
def rotate(slug: str) -> Response:
    """Replace the signing key; the old one keeps verifying what it signed."""
    form = RotateKeyForm()
    if not form.validate_on_submit():
        abort(400)
    with db_session() as session:
        organisation = _organisation(session, slug)
        new = rotate_key(session, services().key_store, organisation, actor=_actor())
    flash(f"A new key signs from now on: {new.id}.", "success")
    return redirect(url_for("issuer_admin.dashboard", slug=slug))


@bp.post("/<slug>/keys/compromise")
@require_role(Role.ISSUER_ADMIN)
def compromise(slug: str) -> Response | tuple[str, int]:
    """Mark a key compromised from an instant and list what to reissue."""
    form = CompromiseForm()
    with db_session() as session:
        organisation = _organisation(session, slug)
        form.method_id.choices = [
            (record.id, record.id)
            for did in organisation_dids(organisation)
            for record in methods_of(session, did)
        ]
        since = _parse_instant(form.since.data or "")
        if not form.validate_on_submit() or since is None:
            message = (
                "Give the instant as a UTC date and time such as 2026-04-01T09:30:00Z."
                if since is None
                else "Check the form: choose a key and give a reason."
            )
            flash(message, "error")
            return redirect(url_for("issuer_admin.dashboard", slug=slug))
        try:
            result = mark_key_compromised(
                session,
                services().key_store,
                organisation,
                form.method_id.data,
                since=since,
                reason=form.reason.data,
                actor=_actor(),
            )
        except IssuerError as error:
            flash(str(error), "error")
            return redirect(url_for("issuer_admin.dashboard", slug=slug))
    flash(
        f"Marked compromised: {', '.join(result.method_ids)}. "
        f"{len(result.affected_credential_ids)} credentials signed with it since "
        "then are listed below for reissue.",
        "success",
    )
    return redirect(url_for("issuer_admin.dashboard", slug=slug))


def _parse_instant(text: str) -> datetime | None:
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if instant.tzinfo is None:
        return None
    return instant.astimezone(UTC)


@bp.route("/<slug>/imports", methods=["GET", "POST"])
@require_role(Role.ISSUER_ADMIN)
def imports(slug: str) -> Response | tuple[str, int] | str:
    """List the imports; on POST, start importing the uploaded export."""
    # Exports are larger than the platform's default request limit.
    request.max_content_length = MAX_UPLOAD_BYTES + 64 * 1024
    if request.method == "POST":
        current_app.extensions["csrf"].protect()
    form = UploadExportForm()
    with db_session() as session:
        organisation = _organisation(session, slug)
        if not form.validate_on_submit():
            runs = import_runs(session, organisation)
            status = 400 if form.is_submitted() else 200
            page = render_template(
                "issuer/imports.html", organisation=organisation, runs=runs, form=form
            )
            return page, status
        upload_folder = services().settings.data_dir / "imports"
        upload_folder.mkdir(parents=True, exist_ok=True)
        # A random name: the uploaded file's own name could hold anything.
        stored = upload_folder / f"{secrets.token_hex(12)}.csv"
        form.export.data.save(stored)
        report = services().settings.data_dir / "reports" / f"{stored.stem}-report.csv"
        file_name = Path(form.export.data.filename or "export.csv").name
        run_id = start_import_run(
            session,
            organisation,
            file_name,
            actor=_actor(),
            report_path=str(report),
        )
    _start_import(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        slug,
        run_id,
        stored,
        report,
        form.as_of.data,
        _actor(),
    )
    flash("The import has started; this page shows its progress.", "success")
    return redirect(url_for("issuer_admin.import_result", slug=slug, run_id=run_id))


def _start_import(
    app: Flask,
    slug: str,
    run_id: int,
    path: Path,
    report: Path,
    as_of: date | None,
    actor: str,
) -> None:
    """Import in a background thread, so the page responds at once.

    The thread signs in this process (one worker), because forking from a
    threaded server is unsafe. NOTE: if the server process stops part way,
    the run stays "running"; uploading the same file again finishes it,
    issuing only what is missing.
    """

    def work() -> None:
        platform = app.extensions["platform"]
        try:
            with Session(platform.engine, expire_on_commit=False) as session:
                organisation = find_organisation(session, slug)
                assert organisation is not None
                import_training_export(
                    session,
                    platform.key_store,
                    organisation,
                    path,
                    secret=reference_secret(platform.settings.key_passphrase),
                    as_of=as_of,
                    report_path=report,
                    actor=actor,
                    run_id=run_id,
                )
        except ExportFormatError as error:
            # The message can quote the file's first line, which may be a
            # staff member's row, so the log gets only the missing columns.
            # The run keeps the whole message for the administrator's page.
            logger.warning(
                "uploaded export rejected run=%s missing_columns=%s",
                run_id,
                ",".join(error.missing_columns) or "none",
            )
        except Exception:
            logger.exception("import failed run=%s", run_id)
        finally:
            path.unlink(missing_ok=True)

    threading.Thread(target=work, name=f"import-{run_id}", daemon=True).start()


@bp.get(f"/<slug>/imports/<int(max={MAX_ROW_ID}):run_id>")
@require_role(Role.ISSUER_ADMIN)
def import_result(slug: str, run_id: int) -> str:
    """Show an import's counts so far and, once finished, its report."""
    with db_session() as session:
        organisation = _organisation(session, slug)
        run = import_run(session, organisation, run_id)
        if run is None:
            abort(404)
    report_ready = bool(
        run.state == "finished" and run.report_path and Path(run.report_path).exists()
    )
    return render_template(
        "issuer/import_result.html",
        organisation=organisation,
        run=run,
        report_ready=report_ready,
    )


@bp.get(f"/<slug>/imports/<int(max={MAX_ROW_ID}):run_id>/report.csv")
@require_role(Role.ISSUER_ADMIN)
def import_report(slug: str, run_id: int) -> Response:
    """Download the import's report of rejected rows and warnings."""
    with db_session() as session:
        organisation = _organisation(session, slug)
        run = import_run(session, organisation, run_id)
    if run is None or not run.report_path or not Path(run.report_path).exists():
        abort(404)
    return send_file(
        run.report_path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"import-{run_id}-report.csv",
    )


@bp.get("/<slug>/credentials")
@require_role(Role.ISSUER_ADMIN)
def credentials(slug: str) -> str:
    """Search the issued credentials."""
    query = request.args.get("q", "")[:200]
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    page = max(request.args.get("page", 1, type=row_number) or 1, 1)
    with db_session() as session:
        organisation = _organisation(session, slug)
        rows = search_credentials(
            session,
            organisation,
            query=query,
            status=status,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
        )
    return render_template(
        "issuer/credentials.html",
        organisation=organisation,
        rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE,
        page=page,
        query=query,
        status=status,
        statuses=STATUS_FILTERS,
        form=StatusChangeForm(),
    )


@bp.post("/<slug>/credentials/status")
@require_role(Role.ISSUER_ADMIN)
def credential_status(slug: str) -> Response:
    """Revoke, suspend or reinstate one credential, with the reason."""
    form = StatusChangeForm()
    back = url_for("issuer_admin.credentials", slug=slug, q=form.credential_id.data)
    if not form.validate_on_submit():
        flash("Give a reason for the change; it is kept in the audit log.", "error")
        return redirect(back)
    with db_session() as session:
        organisation = _organisation(session, slug)
        try:
            change = change_status(
                session,
                services().key_store,
                organisation,
                form.credential_id.data,
                form.action.data,
                reason=form.reason.data,
                actor=_actor(),
            )
        except IssuerError as error:
            flash(str(error), "error")
            return redirect(back)
    flash(
        f"Done: {change.action} {change.credential_id}. The {change.purpose} list "
        "was signed again.",
        "success",
    )
    return redirect(back)


@bp.route("/<slug>/claim-codes", methods=["GET", "POST"])
@require_role(Role.ISSUER_ADMIN)
def claim_codes(slug: str) -> tuple[str, int] | str:
    """Create a one-time claim code for a staff member and show it once."""
    form = ClaimCodeForm()
    with db_session() as session:
        organisation = _organisation(session, slug)
        if not form.validate_on_submit():
            status = 400 if form.is_submitted() else 200
            page = render_template(
                "issuer/claim_codes.html", organisation=organisation, form=form
            )
            return page, status
        settings = services().settings
        try:
            record = find_staff_record(
                session,
                organisation,
                reference_secret(settings.key_passphrase),
                form.employee_number.data,
            )
            new = create_claim_code(
                session,
                organisation,
                record,
                base_url=settings.public_url,
                actor=_actor(),
                lifetime=timedelta(days=form.days.data),
            )
        except IssuerError as error:
            page = render_template(
                "issuer/claim_codes.html",
                organisation=organisation,
                form=form,
                error=str(error),
            )
            return page, 400
    qr = "data:image/png;base64," + base64.b64encode(claim_qr_png(new.link)).decode()
    return render_template(
        "issuer/claim_codes.html",
        organisation=organisation,
        form=ClaimCodeForm(formdata=None),
        new=new,
        qr_data_url=qr,
    )


@bp.get("/<slug>/audit")
@require_role(Role.ISSUER_ADMIN)
def audit(slug: str) -> str:
    """Show the organisation's audit entries, newest first; check the chain."""
    before = request.args.get("before", type=row_number)
    action = request.args.get("action", "")[:64]
    check = request.args.get("verify") == "1"
    with db_session() as session:
        organisation = _organisation(session, slug)
        entries = recent_entries(
            session,
            limit=AUDIT_PAGE_SIZE,
            before=before,
            organisation=organisation.slug,
            action=action or None,
        )
        report = verify_chain(session) if check else None
    rows: list[dict[str, Any]] = [
        {"entry": entry, "details": entry_details(entry)} for entry in entries
    ]
    return render_template(
        "issuer/audit.html",
        organisation=organisation,
        rows=rows,
        action=action,
        next_before=entries[-1].sequence if len(entries) == AUDIT_PAGE_SIZE else None,
        report=report,
    )
