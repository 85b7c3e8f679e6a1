"""Tablet pages for ward and community staff: my tasks, recording a task's
form, a patient's timeline, protocol diagrams and ward metrics.

Patients appear only by their pseudonymous reference. Every page needs a
signed-in account; what it shows and allows follows the account's team
memberships, and every form carries a CSRF token.
"""

import uuid
from collections import defaultdict
from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup

from accounts.auth import current_account, require_role
from workflows.access import may_see_subject, may_see_ward
from workflows.charts import bar_chart
from workflows.diagram import protocol_svg
from workflows.errors import (
    FormInvalid,
    InstanceNotFound,
    NotPermitted,
    TaskNotOpen,
    WorkflowError,
)
from workflows.routing import memberships_of
from workflows.service import init_workflows, workflow_engine
from workflows.tasks import (
    programme_definitions,
    subject_label,
    task_view,
    tasks_for,
    timeline,
    ward_metrics,
)

bp = Blueprint(
    "workflows",
    __name__,
    url_prefix="/care",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
bp.record_once(lambda state: init_workflows(cast(Flask, state.app)))
bp.add_app_template_global(subject_label, "subject_label")

SIGNALS = {
    "clinical-change": "Clinical change",
    "transfer": "Transfer to another ward",
    "return-from-theatre": "Back from theatre or radiology",
    "behaviour-change": "Change in behaviour",
}


def _account_id() -> int:
    account = current_account()
    assert account is not None
    return int(account.id)


@bp.get("/tasks")
@require_role()
def my_tasks() -> ResponseReturnValue:
    workflows = workflow_engine()
    from sqlmodel import Session

    with Session(workflows.engine) as session:
        memberships = memberships_of(session, _account_id())
    ward = request.args.get("ward") or None
    role = request.args.get("role") or None
    views = tasks_for(workflows, _account_id(), ward=ward, role=role)
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for view in views:
        groups[(view.team or "all teams", view.role or "")].append(view)
    # Wards the account is a member of, for links to their daily metrics. A
    # membership without a team covers every ward of its organisation, which
    # has no single page to link to.
    wards = sorted(
        {(m.organisation, m.team) for m in memberships if m.team is not None}
    )
    return render_template(
        "workflows/tasks.html",
        groups=sorted(groups.items()),
        memberships=memberships,
        wards=wards,
        ward=ward,
        role=role,
        overdue=sum(view.overdue for view in views),
        programme_protocols=programme_definitions(
            workflows, {view.protocol for view in views}
        ),
    )


def _form_for(task_id: int) -> tuple[Any, dict[str, Any] | None, bool]:
    """Return the task's view, its form (if it has one) and whether its
    definition is a programme's."""
    workflows = workflow_engine()
    view = task_view(workflows, task_id)
    # A task of an organisation the account has no role at is not shown.
    if view is None or not may_see_subject(workflows, _account_id(), view.subject_ref):
        abort(404)
    instance = workflows.instance(view.instance_id)
    definition = workflows.definition(instance.definition_id, instance.version)
    spec = definition.node(view.step).spec
    form = definition.form(spec["form"]) if "form" in spec else None
    return view, form, "programme" in definition.document


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@require_role()
def task_page(task_id: int) -> ResponseReturnValue:
    view, form, programme = _form_for(task_id)
    errors: list[str] = []
    values: dict[str, str] = {}
    if request.method == "POST":
        fields = form["fields"] if form else []
        values = {field["id"]: request.form.get(field["id"], "") for field in fields}
        try:
            workflow_engine().complete(
                task_id,
                account_id=_account_id(),
                values=values,
                request_key=request.form.get("request_key") or None,
            )
        except FormInvalid as error:
            errors = error.errors
        except (NotPermitted, TaskNotOpen) as error:
            flash(str(error), "error")
            return redirect(url_for("workflows.my_tasks"))
        except WorkflowError as error:
            # A malformed request key, or a change that kept losing the race,
            # records nothing, so the form can be sent again.
            flash(str(error), "error")
            return redirect(url_for("workflows.task_page", task_id=task_id))
        else:
            flash(f"Recorded: {view.title}", "success")
            return redirect(url_for("workflows.my_tasks"))
    status = 422 if errors else 200
    return (
        render_template(
            "workflows/task.html",
            task=view,
            subject=subject_label(view.subject_ref, programme),
            form=form,
            errors=errors,
            values=values,
            request_key=uuid.uuid4().hex,
        ),
        status,
    )


@bp.post("/tasks/<int:task_id>/claim")
@require_role()
def claim(task_id: int) -> ResponseReturnValue:
    try:
        workflow_engine().claim(task_id, account_id=_account_id())
    except WorkflowError as error:
        flash(str(error), "error")
        return redirect(url_for("workflows.my_tasks"))
    return redirect(url_for("workflows.task_page", task_id=task_id))


@bp.get("/patients/<subject_ref>")
@require_role()
def patient_timeline(subject_ref: str) -> ResponseReturnValue:
    workflows = workflow_engine()
    if not may_see_subject(workflows, _account_id(), subject_ref):
        abort(404)
    from sqlmodel import Session, select

    from workflows.models import WorkflowInstance

    with Session(workflows.engine) as session:
        instances = session.exec(
            select(WorkflowInstance)
            .where(WorkflowInstance.subject_ref == subject_ref)
            .where(WorkflowInstance.parent_activity_id == None)  # noqa: E711
        ).all()
    return render_template(
        "workflows/timeline.html",
        subject_ref=subject_ref,
        subject=subject_label(
            subject_ref,
            bool(
                programme_definitions(
                    workflows, {instance.definition_id for instance in instances}
                )
            ),
        ),
        entries=timeline(workflows, subject_ref),
        instances=instances,
        signals=SIGNALS,
    )


@bp.post("/patients/<subject_ref>/signals")
@require_role()
def record_signal(subject_ref: str) -> ResponseReturnValue:
    workflows = workflow_engine()
    if not may_see_subject(workflows, _account_id(), subject_ref):
        abort(404)
    name = request.form.get("signal", "")
    instance_id = request.form.get("instance", "")
    if name not in SIGNALS:
        flash(f"Unknown event {name!r}; choose one from the list.", "error")
    else:
        try:
            instance = workflows.instance(instance_id)
        except InstanceNotFound:
            abort(404)
        if instance.subject_ref != subject_ref:
            abort(404)
        try:
            workflows.signal(instance_id, name, account_id=_account_id())
        except WorkflowError as error:
            flash(str(error), "error")
        else:
            flash(f"Recorded: {SIGNALS[name]}", "success")
    return redirect(url_for("workflows.patient_timeline", subject_ref=subject_ref))


@bp.get("/protocols")
@require_role()
def protocols() -> ResponseReturnValue:
    rows = workflow_engine().definitions()
    return render_template("workflows/protocols.html", rows=rows)


@bp.get("/protocols/<definition_id>")
@require_role()
def protocol(definition_id: str) -> ResponseReturnValue:
    version = request.args.get("version", type=int)
    try:
        definition = workflow_engine().definition(definition_id, version)
    except WorkflowError:
        abort(404)
    return render_template(
        "workflows/protocol.html",
        definition=definition,
        diagram=Markup(protocol_svg(definition)),  # noqa: S704 - escaped in diagram.py
    )


@bp.get("/wards/<organisation>/<ward>")
@require_role()
def ward_page(organisation: str, ward: str) -> ResponseReturnValue:
    workflows = workflow_engine()
    if not may_see_ward(workflows, _account_id(), organisation, ward):
        abort(403)
    days = ward_metrics(workflows, organisation=organisation, ward=ward, days=14)
    labels = [f"{day.day.day} {day.day:%b}" for day in days]
    charts = [
        bar_chart(
            "Screened within 6 hours",
            labels,
            [day.share(day.screened_within_6h, day.screenings) for day in days],
            maximum=1,
            percent=True,
        ),
        bar_chart(
            "Screened within 24 hours",
            labels,
            [day.share(day.screened_within_24h, day.screenings) for day in days],
            maximum=1,
            percent=True,
        ),
        bar_chart(
            "Repositioning on time",
            labels,
            [
                day.share(day.repositioning_on_time, day.repositioning_due)
                for day in days
            ],
            maximum=1,
            percent=True,
        ),
        bar_chart(
            "Open tasks overdue now", labels, [float(day.overdue_now) for day in days]
        ),
    ]
    return render_template(
        "workflows/ward.html",
        organisation=organisation,
        ward=ward,
        days=days,
        charts=[Markup(chart) for chart in charts],  # noqa: S704 - escaped in charts.py
    )
