"""Read models for task lists, patient timelines and ward metrics.

These return plain dataclasses for the pages and the JSON API; table rows
never leave this package.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from workflows.engine import WorkflowEngine
from workflows.models import (
    WorkflowActivity,
    WorkflowDefinition,
    WorkflowEvent,
    WorkflowInstance,
    is_row_id,
)
from workflows.routing import routed_to
from workflows.runtime import HUMAN_KINDS, OPEN

LEARNER_REFERENCE = re.compile(r"LP-[A-Z0-9]{8}")
"""The form of a leadership programme's enrolment reference (``LP-6KHXG6TP``),
the subject of its review workflows.

NOTE: the programmes package makes these references; the pattern is
repeated here because the engine does not import the packages built on it.
"""


def subject_label(subject_ref: str, programme: bool = False) -> str:
    """Return the word for the person a workflow runs for: "Learner" for a
    programme enrolment (a learner reference, or a definition with a
    ``programme`` section), "Patient" for a care protocol."""
    if programme or LEARNER_REFERENCE.fullmatch(subject_ref):
        return "Learner"
    return "Patient"


def programme_definitions(
    workflows: WorkflowEngine, definition_ids: Iterable[str]
) -> frozenset[str]:
    """Return the ids among ``definition_ids`` whose definition has a
    ``programme`` section in any published version."""
    requested_ids = set(definition_ids)
    if not requested_ids:
        return frozenset()
    with Session(workflows.engine) as session:
        rows = session.exec(
            select(WorkflowDefinition.definition_id, WorkflowDefinition.document).where(
                col(WorkflowDefinition.definition_id).in_(requested_ids)
            )
        )
        return frozenset(
            definition_id for definition_id, document in rows if "programme" in document
        )


@dataclass(frozen=True)
class TaskView:
    id: int
    instance_id: str
    subject_ref: str
    protocol: str
    step: str
    title: str
    kind: str
    role: str | None
    organisation: str | None
    team: str | None
    status: str
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    escalated: bool
    owner_account_id: int | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("created_at", "due_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return {_camel(key): value for key, value in data.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _view(
    activity: WorkflowActivity, instance: WorkflowInstance, now: datetime
) -> TaskView:
    assert activity.id is not None
    return TaskView(
        id=activity.id,
        instance_id=instance.id,
        subject_ref=instance.subject_ref,
        protocol=instance.definition_id,
        step=activity.node_id,
        title=activity.title,
        kind=activity.kind,
        role=activity.role,
        organisation=activity.organisation,
        team=activity.team,
        status=activity.status,
        created_at=activity.created_at,
        due_at=activity.due_at,
        overdue=activity.status in OPEN
        and activity.due_at is not None
        and activity.due_at < now,
        escalated=activity.escalated_role is not None,
        owner_account_id=activity.owner_account_id,
    )


def tasks_for(
    workflows: WorkflowEngine,
    account_id: int,
    *,
    ward: str | None = None,
    role: str | None = None,
) -> list[TaskView]:
    """List the open tasks routed to the account's roles and teams now,
    overdue first, then by due time."""
    now = workflows.clock.now()
    with Session(workflows.engine) as session:
        query = (
            select(WorkflowActivity, WorkflowInstance)
            .join(
                WorkflowInstance,
                col(WorkflowInstance.id) == col(WorkflowActivity.instance_id),
            )
            .where(col(WorkflowActivity.id).in_(routed_to(account_id, role)))
            .where(col(WorkflowActivity.kind).in_(HUMAN_KINDS))
            .where(col(WorkflowActivity.status).in_(OPEN))
            .where(
                col(WorkflowActivity.owner_account_id).in_([account_id])
                | col(WorkflowActivity.owner_account_id).is_(None)
            )
        )
        if ward is not None:
            query = query.where(WorkflowActivity.team == ward)
        rows = session.exec(query.order_by(col(WorkflowActivity.id))).all()
    views = [_view(activity, instance, now) for activity, instance in rows]
    return sorted(
        views,
        key=lambda view: (
            not view.overdue,
            view.due_at or datetime.max.replace(tzinfo=now.tzinfo),
            view.id,
        ),
    )


def task_view(workflows: WorkflowEngine, task_id: int) -> TaskView | None:
    if not is_row_id(task_id):
        return None
    with Session(workflows.engine) as session:
        activity = session.get(WorkflowActivity, task_id)
        if activity is None or activity.kind not in HUMAN_KINDS:
            return None
        instance = session.get(WorkflowInstance, activity.instance_id)
        assert instance is not None
        return _view(activity, instance, workflows.clock.now())


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    protocol: str
    kind: str
    actor: str
    step: str | None
    summary: str


def timeline(workflows: WorkflowEngine, subject_ref: str) -> list[TimelineEntry]:
    """List every audit event of every instance for one pseudonymous patient
    reference, oldest first.

    Recorded values show their form field's label and the value in words,
    and the actor is the account's display name, for the signed-in staff who
    may see this patient.
    """
    from accounts.models import UserAccount

    with Session(workflows.engine) as session:
        rows = session.exec(
            select(WorkflowEvent, WorkflowInstance.definition_id, WorkflowDefinition)
            .join(
                WorkflowInstance,
                col(WorkflowInstance.id) == col(WorkflowEvent.instance_id),
            )
            .join(
                WorkflowDefinition,
                col(WorkflowDefinition.id) == col(WorkflowInstance.definition_pk),
            )
            .where(WorkflowInstance.subject_ref == subject_ref)
            .order_by(col(WorkflowEvent.at), col(WorkflowEvent.id))
        ).all()
        account_ids = {
            int(event.actor.removeprefix(ACCOUNT_ACTOR))
            for event, _, _ in rows
            if event.actor.startswith(ACCOUNT_ACTOR)
            and event.actor.removeprefix(ACCOUNT_ACTOR).isdigit()
        }
        names = {
            f"{ACCOUNT_ACTOR}{account_id}": name
            for account_id, name in session.exec(
                select(UserAccount.id, UserAccount.display_name).where(
                    col(UserAccount.id).in_(account_ids)
                )
            )
        }
    fields_by_definition: dict[int | None, dict[str, dict[str, Any]]] = {}
    entries = []
    for event, definition_id, definition in rows:
        if definition.id not in fields_by_definition:
            fields_by_definition[definition.id] = _step_fields(definition.document)
        step = (event.data or {}).get("step")
        fields = fields_by_definition[definition.id].get(step, {}) if step else {}
        entries.append(
            TimelineEntry(
                at=event.at,
                protocol=definition_id,
                kind=event.kind,
                actor=names.get(event.actor, _actor_label(event.actor)),
                step=step,
                summary=_summarise(event, fields),
            )
        )
    return entries


ACCOUNT_ACTOR = "account:"
"""The prefix of an event actor that is a staff account (``account:7``)."""


def _actor_label(actor: str) -> str:
    if actor == "system":
        return "System"
    if actor.startswith(ACCOUNT_ACTOR):
        return "Deleted account"  # the account row is gone, so no name is known
    return actor


def _step_fields(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Map each step id of ``document`` with a form to that form's fields by id."""
    forms = document.get("forms") or {}
    steps: dict[str, dict[str, Any]] = {}
    pending = list(document.get("action") or [])
    while pending:
        action = pending.pop()
        pending.extend(action.get("action") or [])
        for branch in action.get("branch") or []:
            pending.extend(branch.get("action") or [])
        form = forms.get(action.get("form"))
        if form is not None:
            steps[action["id"]] = {field["id"]: field for field in form["fields"]}
    return steps


def _field_label(name: str, field: dict[str, Any] | None) -> str:
    # The task page labels fields the same way.
    label = (field or {}).get("label")
    return str(label) if label else name.replace("_", " ").capitalize()


def _value_in_words(value: Any, field: dict[str, Any] | None) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "not recorded"
    if (field or {}).get("type") == "choice":
        return str(value).replace("-", " ")
    unit = (field or {}).get("unit")
    return f"{value} {unit}" if unit else str(value)


def _summarise(event: WorkflowEvent, fields: dict[str, dict[str, Any]]) -> str:
    data = event.data or {}
    if "values" in data:
        # Fields in the form's order, then the scores, which are not fields.
        names = [name for name in fields if name in data["values"]]
        names += sorted(name for name in data["values"] if name not in fields)
        return "; ".join(
            f"{_field_label(name, fields.get(name))}: "
            f"{_value_in_words(data['values'][name], fields.get(name))}"
            for name in names
        )
    if "band" in data:
        return f"score {data.get('value')}: {data['band']}"
    if "reason" in data:
        return str(data["reason"])
    if "missedPeriods" in data:
        return f"caught up after {data['missedPeriods']} missed periods"
    if "role" in data:
        return f"to {data['role']}" + (
            f" at {data['organisation']}" if "organisation" in data else ""
        )
    return ""


@dataclass(frozen=True)
class WardDay:
    """Daily assurance figures for one ward."""

    day: date
    screenings: int
    screened_within_6h: int
    screened_within_24h: int
    repositioning_due: int
    repositioning_on_time: int
    overdue_now: int

    def share(self, part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    def to_json(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "screenings": self.screenings,
            "screenedWithin6h": self.share(self.screened_within_6h, self.screenings),
            "screenedWithin24h": self.share(self.screened_within_24h, self.screenings),
            "repositioningDue": self.repositioning_due,
            "repositioningOnTime": self.share(
                self.repositioning_on_time, self.repositioning_due
            ),
            "overdueNow": self.overdue_now,
        }


def ward_metrics(
    workflows: WorkflowEngine, *, organisation: str, ward: str, days: int = 14
) -> list[WardDay]:
    """Compute, per day, the share of screenings done within 6 and 24 hours,
    repositioning done on time, and the open tasks overdue now.

    Screening and repositioning tasks are those whose definition marks them
    with ``metric``; a day is the day the task was requested (UTC).
    """
    now = workflows.clock.now()
    since = now - timedelta(days=days)
    with Session(workflows.engine) as session:
        rows = session.exec(
            select(WorkflowActivity, WorkflowInstance.definition_pk)
            .join(
                WorkflowInstance,
                col(WorkflowInstance.id) == col(WorkflowActivity.instance_id),
            )
            .where(WorkflowActivity.organisation == organisation)
            .where(WorkflowActivity.team == ward)
            .where(col(WorkflowActivity.kind).in_(HUMAN_KINDS))
            .where(col(WorkflowActivity.created_at) >= since)
        ).all()
        metrics = _metric_steps(workflows, session, {pk for _, pk in rows})
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for activity, definition_pk in rows:
        day = activity.created_at.date()
        bucket = counts[day]
        metric = metrics.get((definition_pk, activity.node_id))
        if (
            activity.status in OPEN
            and activity.due_at is not None
            and activity.due_at < now
        ):
            bucket["overdue"] += 1
        if activity.status == "cancelled":
            continue
        taken = (
            (activity.completed_at - activity.created_at)
            if activity.completed_at
            else None
        )
        if metric == "screening":
            bucket["screenings"] += 1
            if taken is not None and taken <= timedelta(hours=6):
                bucket["within_6h"] += 1
            if taken is not None and taken <= timedelta(hours=24):
                bucket["within_24h"] += 1
        elif metric == "repositioning" and (
            activity.completed_at or (activity.due_at and activity.due_at < now)
        ):
            bucket["turns_due"] += 1
            if activity.completed_at and (
                activity.due_at is None or activity.completed_at <= activity.due_at
            ):
                bucket["turns_on_time"] += 1
    first = (now - timedelta(days=days - 1)).date()
    return [
        WardDay(
            day=first + timedelta(days=offset),
            screenings=counts[first + timedelta(days=offset)]["screenings"],
            screened_within_6h=counts[first + timedelta(days=offset)]["within_6h"],
            screened_within_24h=counts[first + timedelta(days=offset)]["within_24h"],
            repositioning_due=counts[first + timedelta(days=offset)]["turns_due"],
            repositioning_on_time=counts[first + timedelta(days=offset)][
                "turns_on_time"
            ],
            overdue_now=counts[first + timedelta(days=offset)]["overdue"],
        )
        for offset in range(days)
    ]


def _metric_steps(
    workflows: WorkflowEngine, session: Session, definition_pks: set[int]
) -> dict[tuple[int, str], str]:
    from workflows.models import WorkflowDefinition

    steps: dict[tuple[int, str], str] = {}
    for pk in definition_pks:
        row = session.get(WorkflowDefinition, pk)
        assert row is not None
        for node in workflows._compile(row).nodes.values():
            if "metric" in node.spec:
                steps[(pk, node.id)] = node.spec["metric"]
    return steps
