"""The programme lead's dashboard: progress charts, overdue work and the CSV.

Read-only pages for accounts with the programme lead role. A lead may open
the cohorts they lead and those led from an organisation where they hold the
programme lead role. Any other cohort returns 404, so a guessed code reveals
nothing. Every figure comes from :meth:`programmes.service.Programmes.progress`,
the function behind ``passport programmes progress --cohort COHORT --json``,
so the page, the CSV and the command always agree.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import or_
from sqlmodel import Session, col, select

from accounts.auth import current_account, require_role
from accounts.service import AccountView
from programmes.charts import cohort_chart, learner_chart
from programmes.errors import NotFound
from programmes.export import progress_csv
from programmes.models import ProgrammeCohort
from programmes.progress import SIGN_OFF_DUE_DAYS, CohortProgress
from programmes.roles import PROGRAMME_LEAD_ROLE
from programmes.views import programmes_service

# Learners per page of the per-learner chart and table. The totals, the
# cohort chart, the overdue list and the CSV always cover the whole cohort.
LEARNERS_PER_PAGE = 50

bp = Blueprint(
    "programme_dashboard",
    __name__,
    url_prefix="/programmes/dashboard",
    template_folder="templates",
    static_folder="static",
)


def _lead() -> AccountView:
    account = current_account()
    assert account is not None
    return account


def led_cohorts(session: Session, account: AccountView) -> list[ProgrammeCohort]:
    """Return the cohorts ``account`` may see as programme lead, newest first."""
    organisations = account.organisations(PROGRAMME_LEAD_ROLE)
    return list(
        session.exec(
            select(ProgrammeCohort)
            .where(
                or_(
                    col(ProgrammeCohort.lead_account_id) == account.id,
                    col(ProgrammeCohort.lead_organisation).in_(organisations),
                )
            )
            .order_by(col(ProgrammeCohort.starts_on).desc(), col(ProgrammeCohort.code))
        ).all()
    )


def _led_progress(code: str) -> CohortProgress:
    """Return cohort ``code``'s figures, or abort with 404 unless the
    signed-in lead may see the cohort."""
    service = programmes_service()
    with Session(service.engine) as session:
        codes = {cohort.code for cohort in led_cohorts(session, _lead())}
    if code not in codes:
        abort(404)
    try:
        return service.progress(code)
    except NotFound:
        abort(404)


@bp.get("/")
@require_role(PROGRAMME_LEAD_ROLE)
def index() -> ResponseReturnValue:
    """List the lead's cohorts, or redirect to the dashboard of the only one."""
    with Session(programmes_service().engine) as session:
        cohorts = led_cohorts(session, _lead())
    if len(cohorts) == 1:
        return redirect(url_for(".cohort", code=cohorts[0].code))
    return render_template("programmes/dashboard_index.html", cohorts=cohorts)


@bp.get("/<code>")
@require_role(PROGRAMME_LEAD_ROLE)
def cohort(code: str) -> ResponseReturnValue:
    progress = _led_progress(code)
    pages = max(1, -(-len(progress.learners) // LEARNERS_PER_PAGE))
    page = request.args.get("page", 1, type=int)
    if not 1 <= page <= pages:
        abort(404)
    first = (page - 1) * LEARNERS_PER_PAGE
    page_learners = progress.learners[first : first + LEARNERS_PER_PAGE]
    overdue = [
        learner
        for learner in progress.learners
        if learner.overdue_sign_offs or learner.overdue_reviews
    ]
    return render_template(
        "programmes/dashboard.html",
        progress=progress,
        totals=progress.totals(),
        cohort_chart=cohort_chart(progress),
        learner_chart=learner_chart(page_learners),
        learners=page_learners,
        first=first,
        page=page,
        pages=pages,
        overdue=overdue,
        due_days=SIGN_OFF_DUE_DAYS,
    )


@bp.get("/<code>/progress.csv")
@require_role(PROGRAMME_LEAD_ROLE)
def cohort_csv(code: str) -> ResponseReturnValue:
    """Download the cohort's per-learner figures as CSV."""
    progress = _led_progress(code)
    response = Response(progress_csv(progress), mimetype="text/csv")
    safe_code = "".join(c if c.isalnum() or c in "-_" else "_" for c in code)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{safe_code}-progress.csv"'
    )
    return response
