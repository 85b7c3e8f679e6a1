"""The state machine that moves one instance forward inside a transaction.

A :class:`Run` is made for one instance in one database transaction. Its
first write raises ``lock_version`` by one where it still has the value that
was read, so two transactions that start from the same state cannot both
commit: the loser raises :class:`ConcurrentChange` and its caller retries on
fresh state. That is what makes a join fire once when two branches finish at
the same moment, in one process or several.

Activities form a tree that mirrors the definition's blocks. A sequence,
parallel, decision or repeat activity is the parent of the steps it runs,
and a repeat runs each round as an ``iteration`` activity. Only open activities are
read while moving forward, so an instance with a long history costs no more
to advance than a new one.
"""

import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy import select as core_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from workflows.definitions import ROOT, Definition, Node
from workflows.durations import parse_duration
from workflows.errors import ConcurrentChange, ExpressionFailed
from workflows.expressions import evaluate, evaluate_condition
from workflows.models import (
    WorkflowActivity,
    WorkflowEvent,
    WorkflowInstance,
    WorkflowOutbox,
    WorkflowTimer,
)

logger = logging.getLogger(__name__)

OPEN = ("requested", "accepted", "in-progress", "on-hold")
TERMINAL = ("completed", "cancelled", "failed")
HUMAN_KINDS = ("task", "handoff")
# Kinds of activity that can own timers (escalations, waits, repeat rounds).
TIMED_KINDS = ("task", "handoff", "wait", "repeat")

DefinitionLoader = Callable[[Session, str, int | None], tuple[int, Definition]]

# Core tables: statements on them skip the ORM's bulk machinery, which costs
# more Python time per statement than the round trip to the database.
EVENTS = WorkflowEvent.__table__  # type: ignore[attr-defined]
TIMERS = WorkflowTimer.__table__  # type: ignore[attr-defined]
INSTANCES = WorkflowInstance.__table__  # type: ignore[attr-defined]
ACTIVITIES = WorkflowActivity.__table__  # type: ignore[attr-defined]


class BatchWrites:
    """Rows that several runs in one transaction write together at the end.

    The dispatcher fires up to a batch of timers in one transaction. Their
    runs hand their audit events and new timers to this object instead of
    inserting them one run at a time, and :meth:`write` inserts each kind
    with one statement. On PostgreSQL it also hands out activity ids taken
    from the table's sequence in blocks, so a new activity is inserted with
    the session's next flush instead of a flush of its own.
    """

    def __init__(self, session: Session, *, id_block: int = 1) -> None:
        """:param id_block: how many activity ids to take from the sequence
        at a time. The dispatcher passes its batch's timer count, so
        the ids a batch takes but does not use (dropped, as sequences
        drop ids) stay below that count.
        """
        self.session = session
        self.id_block = max(1, id_block)
        self.events: list[dict[str, Any]] = []
        self.timers: list[dict[str, Any]] = []
        self._ids: list[int] = []
        self._sequence = session.get_bind().dialect.name == "postgresql"

    def activity_id(self) -> int | None:
        """Return a fresh activity id, or None where the database assigns it.

        SQLite assigns an id only on insert, so there the activity is
        flushed at once, as outside a batch.
        """
        if not self._sequence:
            return None
        if not self._ids:
            sequence = func.pg_get_serial_sequence(ACTIVITIES.name, "id")
            self._ids = list(
                self.session.connection().scalars(
                    core_select(func.nextval(sequence)).select_from(
                        func.generate_series(1, self.id_block)
                    )
                )
            )
            self._ids.reverse()
        return self._ids.pop()

    def write_timers(self) -> None:
        """Insert the timers scheduled so far, so a statement can change them."""
        if self.timers:
            self.session.connection().execute(insert(TIMERS), self.timers)
            self.timers = []

    def write(self) -> None:
        """Flush the changed rows, then insert the pending timers and events."""
        self.session.flush()
        self.write_timers()
        if self.events:
            self.session.connection().execute(insert(EVENTS), self.events)
            self.events = []


class Run:
    """Changes to one instance within one transaction."""

    def __init__(
        self,
        session: Session,
        instance: WorkflowInstance,
        definition: Definition,
        *,
        now: datetime,
        actor: str,
        load_definition: DefinitionLoader,
        writes: BatchWrites | None = None,
        locked: bool = False,
    ) -> None:
        """:param locked: whether the caller already raised the instance's
        lock version in this transaction, as a timer batch does.
        """
        self.session = session
        self.instance = instance
        self.definition = definition
        self.now = now
        self.actor = actor
        self.load_definition = load_definition
        # Set when the run is one of a batch that writes its rows together.
        self.writes = writes
        self.variables = dict(instance.variables)
        self._locked = locked
        self._events: list[dict[str, Any]] = []
        self._timers: list[dict[str, Any]] = []

    # -- locking and bookkeeping -------------------------------------------

    def lock(self) -> None:
        """Claim the instance for this transaction, or raise ConcurrentChange."""
        if self._locked:
            return
        expected = self.instance.lock_version
        result = self.session.connection().execute(
            update(INSTANCES)
            .where(INSTANCES.c.id == self.instance.id)
            .where(INSTANCES.c.lock_version == expected)
            .values(lock_version=expected + 1, updated_at=self.now)
        )
        if result.rowcount != 1:
            raise ConcurrentChange(
                f"instance {self.instance.id} changed since version {expected}"
            )
        set_committed_value(self.instance, "lock_version", expected + 1)
        set_committed_value(self.instance, "updated_at", self.now)
        self._locked = True

    def save(self) -> None:
        """Write the changed variables, the new events and the new timers.

        A run of a batch hands its events and timers to the batch, which
        writes them with the other runs' rows before the commit. Any other
        run writes them at once through a :class:`BatchWrites` of its own.
        """
        if self.variables != self.instance.variables:
            self.instance.variables = dict(self.variables)
        self.session.add(self.instance)
        writes = self.writes or BatchWrites(self.session)
        writes.timers.extend(self._timers)
        writes.events.extend(self._events)
        self._timers = []
        self._events = []
        if self.writes is None:
            writes.write()

    def event(
        self,
        kind: str,
        activity: WorkflowActivity | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        # Events are written together in save(), one statement for all.
        self._events.append(
            {
                "instance_id": self.instance.id,
                "activity_id": activity.id if activity else None,
                "at": self.now,
                "actor": self.actor,
                "kind": kind,
                "data": data,
            }
        )

    def _write_timers(self) -> None:
        writes = self.writes or BatchWrites(self.session)
        writes.timers.extend(self._timers)
        self._timers = []
        writes.write_timers()

    def hold(self, activity: WorkflowActivity, reason: str) -> None:
        """Put the activity and the instance on hold, recording the reason."""
        activity.status = "on-hold"
        activity.hold_reason = reason
        self.session.add(activity)
        self.instance.status = "on-hold"
        self.instance.hold_reason = reason
        self.event("instance.on-hold", activity, {"reason": reason})
        # The reason can quote recorded values, so it goes to the audit
        # trail only; the log carries ids.
        logger.warning(
            "workflow instance %s on hold at step %s; reason in its history",
            self.instance.id,
            activity.node_id,
        )

    def _schedule(self, activity: WorkflowActivity, kind: str, due: datetime) -> None:
        assert activity.id is not None
        self._timers.append(
            {
                "instance_id": self.instance.id,
                "activity_id": activity.id,
                "kind": kind,
                "due_at": due,
                "status": "scheduled",
                "missed_periods": 0,
            }
        )

    def _new_activity(
        self,
        node: Node,
        parent: WorkflowActivity | None,
        *,
        kind: str | None = None,
        status: str = "in-progress",
        iteration: int = 0,
        data: dict[str, Any] | None = None,
        **routing: Any,
    ) -> WorkflowActivity:
        activity = WorkflowActivity(
            **routing,
            instance_id=self.instance.id,
            parent_id=parent.id if parent else None,
            node_id=node.id,
            kind=kind or node.kind,
            status=status,
            iteration=iteration,
            title=str(node.spec.get("title", ""))[:200],
            data=data,
            created_at=self.now,
        )
        activity.id = self.writes.activity_id() if self.writes is not None else None
        self.session.add(activity)
        if activity.id is None:
            # The database assigns the id; children and timers need it now.
            self.session.flush()
        return activity

    def _run_for(
        self,
        instance: WorkflowInstance,
        definition: Definition | None = None,
        *,
        locked: bool = False,
    ) -> "Run":
        """Return a run on another instance (a caller or a called protocol)."""
        if definition is None:
            _, definition = self.load_definition(
                self.session, instance.definition_id, instance.version
            )
        return Run(
            self.session,
            instance,
            definition,
            now=self.now,
            actor=self.actor,
            load_definition=self.load_definition,
            writes=self.writes,
            locked=locked,
        )

    # -- entering steps ----------------------------------------------------

    def start(self) -> None:
        """Enter the definition's top-level sequence."""
        self.lock()
        self.event(
            "instance.started",
            data={
                "definition": self.definition.id,
                "version": self.definition.version,
            },
        )
        self.enter(self.definition.node(ROOT), None)

    def enter(self, node: Node, parent: WorkflowActivity | None) -> None:
        """Create the activity for ``node`` under ``parent`` and start it."""
        if node.id in self.instance.skip_nodes:
            activity = self._new_activity(
                node, parent, status="completed", data={"skipped": True}
            )
            activity.completed_at = self.now
            self.event(
                "step.skipped",
                activity,
                {"step": node.id, "reason": "completed before migration"},
            )
            self.finished(activity)
            return
        enter = getattr(self, f"_enter_{node.kind}")
        enter(node, parent)

    def _enter_sequence(self, node: Node, parent: WorkflowActivity | None) -> None:
        activity = self._new_activity(node, parent)
        if node.children:
            self.enter(self.definition.node(node.children[0]), activity)
        else:
            self.finish(activity)

    def _enter_parallel(self, node: Node, parent: WorkflowActivity | None) -> None:
        activity = self._new_activity(node, parent, data={"entered": 0})
        self._enter_branches(activity, list(node.children))

    def _enter_branches(
        self, activity: WorkflowActivity, branch_ids: list[str]
    ) -> None:
        # The join counts entered branches, so a branch that finishes while
        # later ones are still being entered cannot close the block early.
        for number, branch_id in enumerate(branch_ids, start=1):
            if activity.status not in OPEN:
                return
            activity.data = {**(activity.data or {}), "entered": number}
            self.session.add(activity)
            self.enter(self.definition.node(branch_id), activity)

    def _enter_decision(self, node: Node, parent: WorkflowActivity | None) -> None:
        activity = self._new_activity(node, parent)
        self.decide(activity)

    def decide(self, activity: WorkflowActivity) -> None:
        """Evaluate the decision and enter the branches it selects."""
        node = self.definition.node(activity.node_id)
        try:
            chosen, outcome = self._choose_branches(node)
        except ExpressionFailed as error:
            self.hold(activity, str(error))
            return
        activity.status = "in-progress"
        activity.hold_reason = None
        activity.data = {"branches": chosen, "entered": 0, **outcome}
        self.variables[node.id] = outcome
        self.event("decision.made", activity, {"branches": chosen, **outcome})
        if not chosen:
            self.finish(activity)
            return
        self._enter_branches(activity, chosen)

    def _choose_branches(self, node: Node) -> tuple[list[str], dict[str, Any]]:
        spec = node.spec
        outcome: dict[str, Any] = {}
        band = None
        if "scoreTable" in spec:
            value = evaluate(spec["input"], self.variables)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ExpressionFailed(
                    f"score input {spec['input']!r} must produce a number, "
                    f"got {value!r}"
                )
            band = band_for(self.definition.score_table(spec["scoreTable"]), value)
            outcome = {"value": value, "band": band}
        chosen: list[str] = []
        every = spec.get("selectionBehavior") == "all"
        for number, branch in enumerate(spec["branch"]):
            branch_id = node.children[number]
            if "otherwise" in branch:
                matched = not chosen
            elif "band" in branch:
                matched = branch["band"] == band
            else:
                matched = evaluate_condition(branch["condition"], self.variables)
            if matched:
                chosen.append(branch_id)
                if not every:
                    break
        return chosen, outcome

    def _enter_task(
        self, node: Node, parent: WorkflowActivity | None
    ) -> WorkflowActivity:
        spec = node.spec
        participant = spec["participant"]
        slot = participant["organisation"]
        due_at = None
        if "timing" in spec and "due" in spec["timing"]:
            due_at = self.now + parse_duration(spec["timing"]["due"])
        activity = self._new_activity(
            node,
            parent,
            status="requested",
            role=participant["role"],
            organisation=self.instance.organisations[slot],
            team=self.instance.teams.get(slot),
            due_at=due_at,
        )
        for step, escalation in enumerate(spec.get("escalation") or []):
            due = self.now + parse_duration(escalation["after"])
            self._schedule(activity, f"escalate:{step}", due)
        reminders = (spec.get("timing") or {}).get("remindBefore", [])
        for step, before in enumerate(reminders):
            assert due_at is not None  # the schema requires due with remindBefore
            remind_at = due_at - parse_duration(before)
            if remind_at > self.now:
                self._schedule(activity, f"remind:{step}", remind_at)
        self.event(
            f"{node.kind}.requested",
            activity,
            {
                "step": node.id,
                "role": activity.role,
                "organisation": activity.organisation,
            },
        )
        return activity

    def _enter_handoff(self, node: Node, parent: WorkflowActivity | None) -> None:
        from workflows.fhir import handoff_bundle

        activity = self._enter_task(node, parent)
        assert activity.id is not None
        # The message is written in the transaction that creates the task,
        # so a crash either loses both or keeps both.
        self.session.add(
            WorkflowOutbox(
                instance_id=self.instance.id,
                activity_id=activity.id,
                kind="handoff.requested",
                destination=activity.organisation or "",
                payload=handoff_bundle(self.instance, activity, node, self.now),
                created_at=self.now,
            )
        )

    def _enter_wait(self, node: Node, parent: WorkflowActivity | None) -> None:
        timing = node.spec["timing"]
        start: datetime | None = self.now
        if "from" in timing:
            start = moment_of(self.variables.get(timing["from"]))
        if start is None:
            activity = self._new_activity(node, parent)
            self.hold(
                activity,
                f"wait {node.id!r}: variable {timing['from']!r} is not an ISO 8601 "
                f"date or date-time",
            )
            return
        due = start + parse_duration(timing["duration"])
        activity = self._new_activity(node, parent, due_at=due)
        # A due time already past fires at the dispatcher's next pass.
        self._schedule(activity, "wait", due)

    def _enter_repeat(self, node: Node, parent: WorkflowActivity | None) -> None:
        timing = node.spec.get("timing")
        activity = self._new_activity(node, parent)
        self.variables[node.id] = {"iteration": 0}
        if timing is None:
            self.next_iteration(activity)
            return
        period = parse_duration(timing["every"])
        if timing.get("start", "immediately") == "after-period":
            self._schedule(activity, "repeat", self.now + period)
            return
        if self.next_iteration(activity, scheduled_for=self.now):
            self._schedule(activity, "repeat", self.now + period)

    def next_iteration(
        self,
        activity: WorkflowActivity,
        *,
        scheduled_for: datetime | None = None,
        missed: int = 0,
        trigger: str = "period",
    ) -> bool:
        """Start the repeat's next round unless its ``until`` holds.

        :returns: whether the repeat is still running.
        """
        node = self.definition.node(activity.node_id)
        if "until" in node.spec:
            try:
                done = evaluate_condition(node.spec["until"], self.variables)
            except ExpressionFailed as error:
                self.hold(activity, str(error))
                return False
            if done:
                self.finish(activity)
                return False
        # The round count lives in the instance's variables, which this run
        # writes anyway, so a round costs no update of the repeat's row.
        number = int((self.variables.get(node.id) or {}).get("iteration", 0)) + 1
        self.variables[node.id] = {"iteration": number}
        details: dict[str, Any] = {"iteration": number, "trigger": trigger}
        if scheduled_for is not None:
            details["scheduledFor"] = scheduled_for.isoformat()
        if missed:
            details["missedPeriods"] = missed
        iteration = self._new_activity(
            node, activity, kind="iteration", iteration=number, data=details
        )
        self.event(
            "repeat.catch-up" if missed else "repeat.iteration", iteration, details
        )
        self.enter(self.definition.node(node.children[0]), iteration)
        return True

    def _enter_call(self, node: Node, parent: WorkflowActivity | None) -> None:
        activity = self._new_activity(node, parent)
        definition_pk, child_definition = self.load_definition(
            self.session, node.spec["definition"], node.spec.get("version")
        )
        child = WorkflowInstance(
            id=str(uuid.uuid4()),
            definition_pk=definition_pk,
            definition_id=child_definition.id,
            version=child_definition.version,
            business_key=f"{self.instance.business_key}/{node.id}/{activity.id}",
            subject_ref=self.instance.subject_ref,
            status="active",
            variables=dict(self.variables),
            organisations=dict(self.instance.organisations),
            teams=dict(self.instance.teams),
            skip_nodes=[],
            created_at=self.now,
            updated_at=self.now,
        )
        self.session.add(child)
        self.session.flush()
        activity.child_instance_id = child.id
        self.session.add(activity)
        # Inserted in this transaction, so no other one can read it yet.
        run = self._run_for(child, child_definition, locked=True)
        run.start()
        run.save()
        self.event("call.started", activity, {"instance": child.id})
        if child.status == "completed":
            self.variables[node.id] = dict(child.variables)
            self.finish(activity)
        else:
            child.parent_activity_id = activity.id
            self.session.add(child)

    # -- finishing steps ---------------------------------------------------

    def finish(self, activity: WorkflowActivity, status: str = "completed") -> None:
        """Close ``activity`` and move its parent block forward."""
        activity.status = status
        activity.completed_at = self.now
        activity.hold_reason = None
        self.session.add(activity)
        if activity.kind in TIMED_KINDS:
            self._cancel_timers([activity])
        if activity.kind not in HUMAN_KINDS:
            self.event(
                f"{activity.kind}.{status}", activity, {"step": activity.node_id}
            )
        self.finished(activity)

    def finished(self, activity: WorkflowActivity) -> None:
        """Tell the parent of a closed (or released) activity about it."""
        if activity.parent_id is None:
            self._complete_instance()
            return
        parent = self.session.get(WorkflowActivity, activity.parent_id)
        assert parent is not None
        if parent.status not in OPEN:
            return
        if parent.kind in ("sequence", "iteration"):
            following = self.definition.next_sibling(activity.node_id)
            if following is None:
                self.finish(parent)
            else:
                self.enter(following, parent)
        elif parent.kind in ("parallel", "decision"):
            self._join(parent)
        elif parent.kind == "repeat":
            self._iteration_finished(parent)

    def _join(self, block: WorkflowActivity) -> None:
        node = self.definition.node(block.node_id)
        data = block.data or {}
        expected = len(data.get("branches", node.children))
        if node.spec.get("selectionBehavior") == "any" and block.kind == "parallel":
            self.cancel_children(block)
            self.event("join.fired", block, {"step": block.node_id, "rule": "any"})
            self.finish(block)
            return
        if data.get("entered", 0) < expected or self._open_children(block):
            return
        self.event("join.fired", block, {"step": block.node_id, "rule": "all"})
        self.finish(block)

    def _iteration_finished(self, repeat: WorkflowActivity) -> None:
        node = self.definition.node(repeat.node_id)
        if "timing" not in node.spec:
            self.next_iteration(repeat, trigger="previous round finished")
            return
        self.stop_if_done(repeat)

    def stop_if_done(self, repeat: WorkflowActivity) -> bool:
        """Finish a repeat whose ``until`` is true now, cancelling open rounds.

        :returns: whether the repeat stopped (or went on hold).
        """
        node = self.definition.node(repeat.node_id)
        if "until" not in node.spec:
            return False
        try:
            done = evaluate_condition(node.spec["until"], self.variables)
        except ExpressionFailed as error:
            self.hold(repeat, str(error))
            return True
        if done:
            self.cancel_children(repeat)
            self.finish(repeat)
        return done

    def _open_children(self, parent: WorkflowActivity) -> list[WorkflowActivity]:
        return list(
            self.session.exec(
                select(WorkflowActivity)
                .where(WorkflowActivity.parent_id == parent.id)
                .where(col(WorkflowActivity.status).in_(OPEN))
            )
        )

    def cancel_children(self, parent: WorkflowActivity) -> None:
        """Cancel every open activity under ``parent``, depth first."""
        for child in self._open_children(parent):
            self.cancel_children(child)
            child.status = "cancelled"
            child.completed_at = self.now
            self.session.add(child)
            self._cancel_timers([child])
            if child.child_instance_id:
                self._cancel_child_instance(child.child_instance_id)
            self.event(f"{child.kind}.cancelled", child, {"step": child.node_id})

    def _cancel_child_instance(self, instance_id: str) -> None:
        child = self.session.get(WorkflowInstance, instance_id)
        if child is None or child.status in ("completed", "cancelled"):
            return
        run = self._run_for(child)
        run.lock()
        run.cancel_instance("the calling step was cancelled")
        run.save()

    def cancel_instance(self, reason: str) -> None:
        """Cancel every open activity and timer, then the instance."""
        for activity in self.session.exec(
            select(WorkflowActivity)
            .where(WorkflowActivity.instance_id == self.instance.id)
            .where(WorkflowActivity.parent_id == None)  # noqa: E711
            .where(col(WorkflowActivity.status).in_(OPEN))
        ):
            self.cancel_children(activity)
            activity.status = "cancelled"
            activity.completed_at = self.now
            self.session.add(activity)
            self._cancel_timers([activity])
        self.instance.status = "cancelled"
        self.event("instance.cancelled", data={"reason": reason})

    def _cancel_timers(self, activities: list[WorkflowActivity]) -> None:
        ids = [activity.id for activity in activities if activity.id is not None]
        if not ids:
            return
        # A timer scheduled earlier in this run (or batch) must exist to be
        # cancelled, and a timer changed on its object must be written first.
        self._write_timers()
        self.session.flush()
        self.session.connection().execute(
            update(TIMERS)
            .where(TIMERS.c.activity_id.in_(ids))
            .where(TIMERS.c.status == "scheduled")
            .values(status="cancelled")
        )

    def _complete_instance(self) -> None:
        self.instance.status = "completed"
        self.instance.hold_reason = None
        self.event("instance.completed")
        parent_activity_id = self.instance.parent_activity_id
        if parent_activity_id is None:
            return
        # A called protocol finished: move the caller's instance on as well,
        # in this same transaction and under its own lock.
        caller_activity = self.session.get(WorkflowActivity, parent_activity_id)
        if caller_activity is None or caller_activity.status not in OPEN:
            return
        caller = self.session.get(WorkflowInstance, caller_activity.instance_id)
        assert caller is not None
        run = self._run_for(caller)
        run.lock()
        run.variables[caller_activity.node_id] = dict(self.variables)
        run.finish(caller_activity)
        run.save()

    # -- timers ------------------------------------------------------------

    def repeat_tick(self, activity: WorkflowActivity, timer: WorkflowTimer) -> None:
        """Start the round a repeat timer stands for, then schedule the next.

        The next due time is the previous due time plus whole periods, never
        the time of firing plus a period, so late firing does not drift. When
        whole periods were missed (the dispatcher was down), the catch-up
        policy runs one round for all of them (``once``) or none (``skip``).
        """
        node = self.definition.node(activity.node_id)
        period = parse_duration(node.spec["timing"]["every"])
        missed = missed_periods(timer.due_at, self.now, period)
        if missed:
            timer.missed_periods = missed
            self.session.add(timer)
        policy = node.spec.get("catchUp", "once")

        if missed and policy == "skip":
            if "until" in node.spec:
                try:
                    if evaluate_condition(node.spec["until"], self.variables):
                        self.finish(activity)
                        return
                except ExpressionFailed as error:
                    self.hold(activity, str(error))
                    return
            self.event("repeat.missed", activity, {"missedPeriods": missed})
            running = True
        else:
            running = self.next_iteration(
                activity, scheduled_for=timer.due_at, missed=missed
            )
        if running:
            self._schedule(activity, "repeat", timer.due_at + (missed + 1) * period)

    def remind(self, activity: WorkflowActivity, step: int) -> None:
        """Record in the instance's history that a task's reminder came due.

        NOTE: the reminder is only recorded; no message goes to the person,
        because the platform has no notification channel yet.
        """
        node = self.definition.node(activity.node_id)
        before = node.spec["timing"]["remindBefore"][step]
        self.event(
            "task.reminded",
            activity,
            {"step": node.id, "reminder": step, "before": before},
        )

    def escalate(self, activity: WorkflowActivity, step: int) -> None:
        """Route an overdue task to the escalation role as well."""
        node = self.definition.node(activity.node_id)
        participant = node.spec["escalation"][step]["participant"]
        activity.escalated_role = participant["role"]
        self.session.add(activity)
        self.event(
            "task.escalated",
            activity,
            {"step": node.id, "role": participant["role"], "escalation": step},
        )


def moment_of(value: Any) -> datetime | None:
    """Return an ISO 8601 date (midnight UTC) or date-time as an aware datetime,
    or None when ``value`` is neither."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def missed_periods(due: datetime, now: datetime, period: timedelta) -> int:
    """Return how many whole periods after ``due`` have also passed by ``now``."""
    if now < due + period:
        return 0
    return math.floor((now - due) / period)


def band_for(table: dict[str, Any], value: float) -> str | None:
    """Return the band of a score table that ``value`` falls in, if any."""
    for band in table["bands"]:
        low, high = band.get("min"), band.get("max")
        if (low is None or value >= low) and (high is None or value <= high):
            return str(band["band"])
    return None
