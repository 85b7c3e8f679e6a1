"""The workflow service: publishing definitions, starting instances, tasks.

Every change runs in its own transaction through
:meth:`WorkflowEngine.transact`, which retries on a lost optimistic lock, a
unique-key race or a busy database, so each operation takes effect once.
This module does not import Flask; the CLI, the JSON API and the pages call
it.
"""

import logging
import random
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, text, tuple_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from workflows.clock import Clock, SystemClock
from workflows.definitions import Definition, compile_definition
from workflows.durations import parse_duration
from workflows.errors import (
    ConcurrentChange,
    DefinitionConflict,
    DefinitionNotFound,
    ExpressionFailed,
    FormInvalid,
    InstanceNotFound,
    NotPermitted,
    TaskNotFound,
    TaskNotOpen,
    WorkflowError,
)
from workflows.expressions import evaluate
from workflows.forms import validate_form
from workflows.models import (
    WorkflowActivity,
    WorkflowDefinition,
    WorkflowEvent,
    WorkflowInstance,
    WorkflowRequest,
    WorkflowTimer,
    is_row_id,
)
from workflows.routing import may_act_on
from workflows.runtime import (
    HUMAN_KINDS,
    INSTANCES,
    OPEN,
    TIMERS,
    BatchWrites,
    Run,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")

# A pseudonymous reference: letters, digits and hyphens. Ten digits in a row
# look like an NHS number, which must never be used as a reference.
SUBJECT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")
NHS_NUMBER_LIKE = re.compile(r"\d{10}")
SIGNAL_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
RETRYABLE_DATABASE_ERRORS = ("locked", "busy", "deadlock", "could not serialize")
# Starting data shares the instance variables with the signal counters and
# with each step's recorded values, which the engine stores under the step id.
RESERVED_VARIABLES = frozenset({"signals"})
MAX_SLOT_VALUE_LENGTH = 64
"""The maximum length of an organisation slug or team name given to start an
instance, which is the width of the task's organisation and team columns."""
MAX_START_DATA_DEPTH = 16
"""The maximum nesting of objects and arrays in starting data, counting the
data object itself as level 1."""


@dataclass(frozen=True)
class PublishResult:
    definition_pk: int
    definition_id: str
    version: int
    created: bool


@dataclass(frozen=True)
class StartResult:
    instance_id: str
    created: bool


def actor_of(account_id: int | None) -> str:
    return f"account:{account_id}" if account_id is not None else "system"


def check_subject_ref(subject_ref: str) -> None:
    """Reject a subject reference that is not pseudonymous in form.

    :raises WorkflowError: naming the expected form.
    """
    if not SUBJECT_REF.match(subject_ref) or NHS_NUMBER_LIKE.search(subject_ref):
        raise WorkflowError(
            "the subject reference must be a pseudonymous reference of 4 to 64 "
            "letters, digits and hyphens with no run of ten digits (an NHS "
            "number is never accepted)"
        )


def check_slot_values(field_name: str, slots: dict[str, Any]) -> None:
    """Check that each organisation or team of a start request is short text.

    Tasks store them in 64-character columns.

    :raises WorkflowError: naming the slot and the value.
    """
    for slot, value in slots.items():
        if not isinstance(value, str):
            raise WorkflowError(
                f"{field_name}[{slot!r}] must be text such as 'chelmer-valley', "
                f"got {str(value)[:40]!r}"
            )
        if not 1 <= len(value) <= MAX_SLOT_VALUE_LENGTH:
            raise WorkflowError(
                f"{field_name}[{slot!r}] must be 1 to {MAX_SLOT_VALUE_LENGTH} "
                f"characters, got {len(value)}"
            )


def check_start_data(definition: Definition, data: dict[str, Any]) -> None:
    """Reject starting data that would overwrite what the engine records.

    :raises WorkflowError: naming a key that is a reserved variable or a step
        id of ``definition``, or data nested deeper than
        :data:`MAX_START_DATA_DEPTH`.
    """
    clashing = sorted(key for key in data if key in RESERVED_VARIABLES)
    clashing += sorted(key for key in data if key in definition.nodes)
    if clashing:
        names = ", ".join(repr(key) for key in clashing)
        raise WorkflowError(
            f"starting data may not set {names}, "
            f"because the engine records signals and each step's values under "
            f"those names; rename the keys"
        )
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_START_DATA_DEPTH:
            raise WorkflowError(
                f"starting data nests deeper than {MAX_START_DATA_DEPTH} levels of "
                "objects and arrays; flatten it"
            )
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


class WorkflowEngine:
    """Workflow operations over one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        max_attempts: int = 200,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.max_attempts = max_attempts
        self._compiled: dict[int, Definition] = {}

    # -- transactions ------------------------------------------------------

    def transact(self, work: Callable[[Session], T]) -> T:
        for attempt in range(1, self.max_attempts + 1):
            with Session(self.engine, expire_on_commit=False) as session:
                try:
                    result = work(session)
                    session.commit()
                    return result
                except ConcurrentChange:
                    session.rollback()
                except IntegrityError:
                    session.rollback()
                    if attempt > 5:
                        raise
                except OperationalError as error:
                    session.rollback()
                    if not any(
                        word in str(error).lower() for word in RETRYABLE_DATABASE_ERRORS
                    ):
                        raise
            time.sleep(random.uniform(0, min(0.05, 0.002 * attempt)))
        raise ConcurrentChange(
            f"gave up after {self.max_attempts} attempts on a busy instance; try again"
        )

    # -- definitions -------------------------------------------------------

    def publish(self, definition: Definition) -> PublishResult:
        """Store a definition version; identical content stores nothing new.

        :raises DefinitionConflict: when the id and version are published
            with other content, since a published version is immutable.
        """

        def work(session: Session) -> PublishResult:
            existing = session.exec(
                select(WorkflowDefinition).where(
                    WorkflowDefinition.definition_id == definition.id,
                    WorkflowDefinition.version == definition.version,
                )
            ).first()
            if existing is not None:
                if existing.content_hash != definition.content_hash:
                    raise DefinitionConflict(
                        f"{definition.id!r} version {definition.version} is already "
                        f"published with other content (hash "
                        f"{existing.content_hash[:12]}); published versions are "
                        f"immutable, so raise 'version' to publish the change"
                    )
                assert existing.id is not None
                return PublishResult(
                    existing.id, definition.id, definition.version, False
                )
            row = WorkflowDefinition(
                definition_id=definition.id,
                version=definition.version,
                title=definition.title,
                content_hash=definition.content_hash,
                document=definition.document,
                published_at=self.clock.now(),
            )
            session.add(row)
            session.flush()
            assert row.id is not None
            logger.info(
                "published workflow definition %s version %s",
                definition.id,
                definition.version,
            )
            return PublishResult(row.id, definition.id, definition.version, True)

        return self.transact(work)

    def load_definition(
        self, session: Session, definition_id: str, version: int | None = None
    ) -> tuple[int, Definition]:
        """Return the stored definition (the newest version when not given)."""
        query = select(WorkflowDefinition).where(
            WorkflowDefinition.definition_id == definition_id
        )
        if version is not None:
            query = query.where(WorkflowDefinition.version == version)
        out_of_range = version is not None and not is_row_id(version)
        row = (
            None
            if out_of_range
            else session.exec(
                query.order_by(col(WorkflowDefinition.version).desc())
            ).first()
        )
        if row is None:
            wanted = f"version {version} of " if version else ""
            raise DefinitionNotFound(
                f"no published definition {wanted}{definition_id!r}; publish it with "
                f"'passport workflows import'"
            )
        assert row.id is not None
        return row.id, self._compile(row)

    def _definition_of(
        self, session: Session, instance: WorkflowInstance
    ) -> Definition:
        compiled = self._compiled.get(instance.definition_pk)
        if compiled is not None:
            return compiled
        row = session.get(WorkflowDefinition, instance.definition_pk)
        assert row is not None
        return self._compile(row)

    def _compile(self, row: WorkflowDefinition) -> Definition:
        assert row.id is not None
        if row.id not in self._compiled:
            self._compiled[row.id] = compile_definition(
                row.document, source=f"{row.definition_id} version {row.version}"
            )
        return self._compiled[row.id]

    def definitions(self) -> list[WorkflowDefinition]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(WorkflowDefinition).order_by(
                        col(WorkflowDefinition.definition_id),
                        col(WorkflowDefinition.version),
                    )
                )
            )

    def definition(self, definition_id: str, version: int | None = None) -> Definition:
        with Session(self.engine) as session:
            return self.load_definition(session, definition_id, version)[1]

    # -- instances ---------------------------------------------------------

    def make_run(
        self,
        session: Session,
        instance: WorkflowInstance,
        actor: str,
        now: datetime,
        *,
        writes: BatchWrites | None = None,
        locked: bool = False,
    ) -> Run:
        return Run(
            session,
            instance,
            self._definition_of(session, instance),
            now=now,
            actor=actor,
            load_definition=self.load_definition,
            writes=writes,
            locked=locked,
        )

    def start(
        self,
        definition_id: str,
        *,
        business_key: str,
        subject_ref: str,
        organisations: dict[str, str],
        teams: dict[str, str] | None = None,
        data: dict[str, Any] | None = None,
        version: int | None = None,
        account_id: int | None = None,
    ) -> StartResult:
        """Start an instance, or return the one already started with the key.

        :param organisations: the organisation slug for each of the
            definition's organisation slots.
        :param teams: the team or ward for slots that have one.
        :param data: starting values the conditions can read.
        :raises WorkflowError: on a missing slot or a bad subject reference.
        """
        check_subject_ref(subject_ref)
        if not business_key or len(business_key) > 200:
            raise WorkflowError("the business key must be 1 to 200 characters")
        check_slot_values("organisations", organisations)
        check_slot_values("teams", teams or {})

        def work(session: Session) -> StartResult:
            existing = session.exec(
                select(WorkflowInstance.id).where(
                    WorkflowInstance.definition_id == definition_id,
                    WorkflowInstance.business_key == business_key,
                )
            ).first()
            if existing is not None:
                return StartResult(existing, False)
            definition_pk, definition = self.load_definition(
                session, definition_id, version
            )
            check_start_data(definition, data or {})
            missing = [
                slot
                for slot in definition.document["organisations"]
                if slot not in organisations
            ]
            if missing:
                raise WorkflowError(
                    f"no organisation given for the slot(s) {', '.join(missing)} of "
                    f"{definition_id!r}; map each slot to an organisation slug, "
                    f"such as {{{missing[0]!r}: 'SLUG'}} in the request's "
                    f"organisations"
                )
            now = self.clock.now()
            instance = WorkflowInstance(
                id=str(uuid.uuid4()),
                definition_pk=definition_pk,
                definition_id=definition.id,
                version=definition.version,
                business_key=business_key,
                subject_ref=subject_ref,
                status="active",
                variables={"signals": {}, **(data or {})},
                organisations=dict(organisations),
                teams=dict(teams or {}),
                skip_nodes=[],
                created_at=now,
                updated_at=now,
            )
            session.add(instance)
            session.flush()
            # Inserted in this transaction, so no other one can read it yet.
            run = self.make_run(
                session, instance, actor_of(account_id), now, locked=True
            )
            run.start()
            run.save()
            logger.info(
                "started workflow instance %s of %s", instance.id, definition.id
            )
            return StartResult(instance.id, True)

        return self.transact(work)

    def instance(self, instance_id: str) -> WorkflowInstance:
        with Session(self.engine) as session:
            instance = session.get(WorkflowInstance, instance_id)
            if instance is None:
                raise InstanceNotFound(f"no workflow instance {instance_id!r}")
            return instance

    def _locked_run(
        self, session: Session, instance_id: str, account_id: int | None
    ) -> Run:
        instance = session.get(WorkflowInstance, instance_id)
        if instance is None:
            raise InstanceNotFound(f"no workflow instance {instance_id!r}")
        run = self.make_run(session, instance, actor_of(account_id), self.clock.now())
        run.lock()
        return run

    def cancel(
        self, instance_id: str, *, reason: str, account_id: int | None = None
    ) -> None:
        def work(session: Session) -> None:
            run = self._locked_run(session, instance_id, account_id)
            if run.instance.status not in ("completed", "cancelled"):
                run.cancel_instance(reason)
            run.save()

        self.transact(work)

    def signal(
        self, instance_id: str, name: str, *, account_id: int | None = None
    ) -> int:
        """Record a clinical event (a change, a transfer, a discharge) on the
        instance and on the protocols it called.

        Conditions read it as ``signals``: ``"discharged" in signals``. A
        running repeat whose ``until`` is now true stops. A repeat that lists
        ``name`` in ``alsoOn`` starts a round at once and keeps its timetable.

        :returns: the number of repeats that started a round.
        """
        if not SIGNAL_NAME.match(name):
            raise WorkflowError(
                f"signal {name!r} must be lower-case letters, digits and hyphens"
            )

        def work(session: Session) -> int:
            run = self._locked_run(session, instance_id, account_id)
            return self._signal(session, run, name, {run.instance.id: run})

        return self.transact(work)

    def _signal_tree(self, run: Run, name: str) -> None:
        """Send a signal to the outermost caller of ``run``'s instance, which
        passes it down to every protocol it called."""
        session = run.session
        root = run.instance
        while root.parent_activity_id is not None:
            caller = session.get(WorkflowActivity, root.parent_activity_id)
            assert caller is not None
            parent = session.get(WorkflowInstance, caller.instance_id)
            assert parent is not None
            root = parent
        runs = {run.instance.id: run}
        root_run = runs.get(root.id)
        if root_run is None:
            root_run = run._run_for(root)
            root_run.lock()
            runs[root.id] = root_run
        self._signal(session, root_run, name, runs)

    def _signal(
        self, session: Session, run: Run, name: str, runs: dict[str, Run]
    ) -> int:
        signals = dict(run.variables.get("signals") or {})
        signals[name] = int(signals.get(name, 0)) + 1
        run.variables["signals"] = signals
        started = 0
        for activity in self._open(session, run.instance.id):
            if activity.status != "in-progress":
                continue
            node = run.definition.node(activity.node_id)
            if activity.kind == "repeat":
                listens = name in node.spec.get("alsoOn", [])
                if not run.stop_if_done(activity) and listens:
                    run.next_iteration(activity, trigger=name)
                    started += 1
            elif activity.kind == "call" and activity.child_instance_id:
                child = session.get(WorkflowInstance, activity.child_instance_id)
                if child is not None and child.status in ("active", "on-hold"):
                    # One Run per instance, so its variables are written once.
                    child_run = runs.get(child.id)
                    if child_run is None:
                        child_run = run._run_for(child)
                        child_run.lock()
                        runs[child.id] = child_run
                    started += self._signal(session, child_run, name, runs)
        run.event("signal.received", data={"signal": name, "repeats": started})
        run.save()
        return started

    def resume(self, instance_id: str, *, account_id: int | None = None) -> None:
        """Retry every step on hold, for example after correcting data."""

        def work(session: Session) -> None:
            run = self._locked_run(session, instance_id, account_id)
            run.instance.status = "active"
            run.instance.hold_reason = None
            run.event("instance.resumed")
            for activity in self._open(session, instance_id):
                if activity.status != "on-hold":
                    continue
                if activity.kind == "decision":
                    run.decide(activity)
                elif activity.kind == "repeat":
                    activity.status = "in-progress"
                    node = run.definition.node(activity.node_id)
                    if "timing" in node.spec:
                        run.next_iteration(activity, scheduled_for=run.now)
                        if activity.status == "in-progress":
                            run._schedule(
                                activity,
                                "repeat",
                                run.now + parse_duration(node.spec["timing"]["every"]),
                            )
                    else:
                        run.next_iteration(activity)
                elif activity.kind in HUMAN_KINDS:
                    self._finish_task(run, activity, dict(activity.data or {}))
            run.save()

        self.transact(work)

    def _open(
        self, session: Session, instance_id: str, kind: str | None = None
    ) -> list[WorkflowActivity]:
        query = (
            select(WorkflowActivity)
            .where(WorkflowActivity.instance_id == instance_id)
            .where(col(WorkflowActivity.status).in_(OPEN))
        )
        if kind is not None:
            query = query.where(WorkflowActivity.kind == kind)
        return list(session.exec(query.order_by(col(WorkflowActivity.id))))

    # -- tasks -------------------------------------------------------------

    def _locked_task(
        self, session: Session, task_id: int, account_id: int
    ) -> tuple[WorkflowActivity, Run]:
        """Lock the task's instance, then check the task as it is now.

        The task is read again after the lock: a request that read it open
        just before another request completed it would otherwise complete
        it a second time.
        """
        activity = (
            session.get(WorkflowActivity, task_id) if is_row_id(task_id) else None
        )
        if activity is None or activity.kind not in HUMAN_KINDS:
            raise TaskNotFound(f"no task {task_id}")
        run = self._locked_run(session, activity.instance_id, account_id)
        session.refresh(activity)
        if activity.status not in OPEN:
            raise TaskNotOpen(f"task {task_id} is already {activity.status}")
        if activity.owner_account_id not in (None, account_id):
            raise NotPermitted(f"task {task_id} is claimed by another member of staff")
        if not may_act_on(session, account_id, activity):
            raise NotPermitted(
                f"task {task_id} is for the role {activity.role!r} at "
                f"{activity.organisation!r}, which this account does not hold there"
            )
        return activity, run

    def claim(self, task_id: int, *, account_id: int) -> WorkflowActivity:
        """Take a task (``requested`` to ``accepted``); claiming again is a no-op.

        Accepting a handoff that waits for acceptance moves the sending
        instance on.
        """

        def work(session: Session) -> WorkflowActivity:
            activity, run = self._locked_task(session, task_id, account_id)
            if activity.owner_account_id == account_id:
                return activity
            activity.owner_account_id = account_id
            activity.status = "accepted"
            session.add(activity)
            run.event(f"{activity.kind}.accepted", activity, {"step": activity.node_id})
            node = run.definition.node(activity.node_id)
            if activity.kind == "handoff" and node.spec["waitFor"] == "accepted":
                activity.data = {**(activity.data or {}), "released": True}
                run.finished(activity)
            run.save()
            return activity

        return self.transact(work)

    def start_work(self, task_id: int, *, account_id: int) -> WorkflowActivity:
        """Mark a claimed task ``in-progress``, claiming it first if needed."""
        self.claim(task_id, account_id=account_id)

        def work(session: Session) -> WorkflowActivity:
            activity, run = self._locked_task(session, task_id, account_id)
            if activity.status == "in-progress":
                return activity
            activity.status = "in-progress"
            session.add(activity)
            run.event(
                f"{activity.kind}.in-progress", activity, {"step": activity.node_id}
            )
            run.save()
            return activity

        return self.transact(work)

    def complete(
        self,
        task_id: int,
        *,
        account_id: int,
        values: dict[str, Any],
        request_key: str | None = None,
    ) -> dict[str, Any]:
        """Record the form values of a task and move the instance on.

        Sending the same ``request_key`` again returns the first response and
        changes nothing, even when both requests arrive at once.

        :raises FormInvalid: naming each field out of type or range.
        :raises TaskNotOpen: when the task was completed by another request.
        """
        if request_key is not None and (
            not isinstance(request_key, str) or not 8 <= len(request_key) <= 200
        ):
            raise WorkflowError(
                f"a request key must be text of 8 to 200 characters, got "
                f"{str(request_key)[:40]!r}"
            )

        def replayed(session: Session) -> dict[str, Any] | None:
            if request_key is None:
                return None
            replay = session.get(WorkflowRequest, request_key)
            if replay is not None and replay.response.get("task") != task_id:
                raise WorkflowError(
                    f"request key {request_key!r} was already used for task "
                    f"{replay.response.get('task')}; send a new key per task"
                )
            return dict(replay.response) if replay is not None else None

        def work(session: Session) -> dict[str, Any]:
            earlier = replayed(session)
            if earlier is not None:
                return earlier
            try:
                activity, run = self._locked_task(session, task_id, account_id)
            except TaskNotOpen:
                # A request with the same key may have completed the task
                # while this one waited for the lock: answer as it did.
                earlier = replayed(session)
                if earlier is not None:
                    return earlier
                raise
            node = run.definition.node(activity.node_id)
            cleaned: dict[str, Any] = {}
            if "form" in node.spec:
                cleaned = validate_form(run.definition.form(node.spec["form"]), values)
            elif values:
                raise FormInvalid([f"task {task_id} has no form; send no values"])
            activity.owner_account_id = account_id
            activity.completed_by = run.actor
            self._finish_task(run, activity, cleaned)
            run.save()
            response = {
                "task": activity.id,
                "status": activity.status,
                "instance": run.instance.id,
                "instanceStatus": run.instance.status,
            }
            if request_key is not None:
                session.add(
                    WorkflowRequest(
                        key=request_key,
                        instance_id=run.instance.id,
                        response=response,
                        created_at=run.now,
                    )
                )
            return response

        return self.transact(work)

    def _finish_task(
        self, run: Run, activity: WorkflowActivity, values: dict[str, Any]
    ) -> None:
        node = run.definition.node(activity.node_id)
        record = dict(values)
        form = run.definition.form(node.spec["form"]) if "form" in node.spec else {}
        for name, expression in (form.get("scores") or {}).items():
            try:
                record[name] = evaluate(expression, {**run.variables, **record})
            except ExpressionFailed as error:
                activity.data = values
                run.hold(activity, f"score {name!r}: {error}")
                return
        released = bool((activity.data or {}).get("released"))
        activity.data = record
        run.variables[node.id] = record
        run.event(
            f"{activity.kind}.completed", activity, {"step": node.id, "values": record}
        )
        if released:
            activity.status = "completed"
            activity.completed_at = run.now
            run.session.add(activity)
            run._cancel_timers([activity])
        else:
            run.finish(activity)
        if "signal" in node.spec:
            self._signal_tree(run, node.spec["signal"])

    # -- timers ------------------------------------------------------------

    def fire_timer(self, timer_id: int, *, dispatcher_id: str) -> WorkflowTimer | None:
        """Fire one claimed timer in the transaction that acts on it.

        :returns: the fired timer, or None when it was fired, cancelled or
            claimed by another dispatcher in the meantime.
        """
        return self.transact(
            lambda session: self._fire_in(session, timer_id, dispatcher_id)
        )

    def fire_timers(
        self, timer_ids: list[int], *, dispatcher_id: str
    ) -> tuple[list[WorkflowTimer], list[int]]:
        """Fire several claimed timers in one transaction with one commit.

        The batch raises the lock version of all its instances with one
        statement, marks its timers fired with another, moves each instance
        on, and writes the runs' new activities, timers and audit events
        together before the commit. An instance that changed since it was
        read is left out of the batch and its timer is returned to be fired
        on its own. When anything
        else fails, the whole batch is rolled back and every timer is
        returned to be fired on its own, where a timer that fails again
        puts its instance on hold.

        :returns: the fired timers, and the ids to fire again one by one.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                if self.engine.dialect.name == "sqlite":
                    # Take the write lock before reading, so the rows read
                    # are the rows changed (pysqlite would begin only at the
                    # first write).
                    session.execute(text("BEGIN IMMEDIATE"))
                fired, again = self._fire_batch_in(session, timer_ids, dispatcher_id)
                session.commit()
            except Exception as error:  # noqa: BLE001 - each is fired alone next
                session.rollback()
                # The error's text can quote recorded values, so the log
                # names its type only. Firing each timer alone records the
                # reason in the instance's history if it fails again.
                logger.warning(
                    "rolled back a batch of %d timers (first id %s) after %s; "
                    "firing each on its own",
                    len(timer_ids),
                    timer_ids[0] if timer_ids else None,
                    type(error).__name__,
                )
                return [], list(timer_ids)
        return fired, again

    def _fire_batch_in(
        self, session: Session, timer_ids: list[int], dispatcher_id: str
    ) -> tuple[list[WorkflowTimer], list[int]]:
        timers, _loaded = self._preload_batch(session, timer_ids)
        due = [
            timer
            for timer in timers
            if timer.status == "scheduled" and timer.claimed_by in (None, dispatcher_id)
        ]
        if not due:
            return [], []

        # Every timer of the batch records this moment as fired, which is up
        # to one batch's work before the commit.
        now = self.clock.now()
        instances: dict[str, WorkflowInstance] = {}
        for timer in due:
            instance = session.get(WorkflowInstance, timer.instance_id)
            assert instance is not None
            instances[instance.id] = instance
        locked = self._lock_instances(session, list(instances.values()), now)
        ready = [timer for timer in due if timer.instance_id in locked]
        again = [
            timer.id
            for timer in due
            if timer.instance_id not in locked and timer.id is not None
        ]
        if not ready:
            return [], again

        # A timer is marked fired before its run, which may cancel timers of
        # the activities it closes. Where an instance has several timers in
        # the batch, each is marked just before its own run, so a timer that
        # an earlier run cancelled stays cancelled and is skipped. A called
        # protocol's run can close activities of its caller and the caller's
        # run those of the called protocol, so a batch holding a called
        # protocol marks every timer just before its run.
        per_instance = Counter(timer.instance_id for timer in ready)
        has_called_protocol = any(
            instances[timer.instance_id].parent_activity_id is not None
            for timer in ready
        )
        one_by_one = {
            instance_id
            for instance_id, count in per_instance.items()
            if has_called_protocol or count > 1
        }
        alone = [timer for timer in ready if timer.instance_id not in one_by_one]
        if self._mark_fired(session, alone, now) != len(alone):
            raise ConcurrentChange("a timer of the batch changed while firing")
        fired: list[WorkflowTimer] = []
        writes = BatchWrites(session, id_block=len(ready))
        for timer in ready:
            shared = timer.instance_id in one_by_one
            if shared and self._mark_fired(session, [timer], now) == 0:
                continue
            self._act_in_batch(session, timer, instances[timer.instance_id], writes)
            fired.append(timer)
        writes.write()
        return fired, again

    def _act_in_batch(
        self,
        session: Session,
        timer: WorkflowTimer,
        instance: WorkflowInstance,
        writes: BatchWrites,
    ) -> None:
        """Move the instance on for one fired timer of a locked batch."""
        now = timer.fired_at
        assert now is not None
        # _lock_instances raised the instance's lock version already.
        run = self.make_run(
            session, instance, "dispatcher", now, writes=writes, locked=True
        )
        self._act_and_save(run, timer)

    def _lock_instances(
        self, session: Session, instances: list[WorkflowInstance], now: datetime
    ) -> set[str]:
        """Raise the lock version of each instance still at the version read.

        :returns: the ids of the instances locked. The others changed since
            they were read, and this transaction changed nothing of theirs.
        """
        connection = session.connection()
        ids = sorted(instance.id for instance in instances)
        if self.engine.dialect.name == "postgresql":
            # Row locks are taken in id order, so two batches that share
            # instances wait for each other instead of deadlocking.
            connection.execute(
                core_select(INSTANCES.c.id)
                .where(INSTANCES.c.id.in_(ids))
                .order_by(INSTANCES.c.id)
                .with_for_update()
            )
        versions = [(instance.id, instance.lock_version) for instance in instances]
        locked = set(
            connection.execute(
                update(INSTANCES)
                .where(tuple_(INSTANCES.c.id, INSTANCES.c.lock_version).in_(versions))
                .values(lock_version=INSTANCES.c.lock_version + 1, updated_at=now)
                .returning(INSTANCES.c.id)
            ).scalars()
        )
        for instance in instances:
            if instance.id in locked:
                set_committed_value(instance, "lock_version", instance.lock_version + 1)
                set_committed_value(instance, "updated_at", now)
        return locked

    def _mark_fired(
        self, session: Session, timers: list[WorkflowTimer], now: datetime
    ) -> int:
        """Mark the timers fired with their lateness, in one statement.

        :returns: the number of timers marked, which is smaller than the
            number given when some were no longer scheduled. Their objects
            are updated only when all were marked.
        """
        if not timers:
            return 0
        lateness: dict[int | None, float] = {
            timer.id: (now - timer.due_at).total_seconds() for timer in timers
        }
        marked = session.connection().execute(
            update(TIMERS)
            .where(TIMERS.c.id.in_(list(lateness)))
            .where(TIMERS.c.status == "scheduled")
            .values(
                status="fired",
                fired_at=now,
                lateness_seconds=case(lateness, value=TIMERS.c.id),
            )
        )
        if marked.rowcount != len(timers):
            return marked.rowcount
        for timer in timers:
            set_committed_value(timer, "status", "fired")
            set_committed_value(timer, "fired_at", now)
            set_committed_value(timer, "lateness_seconds", lateness[timer.id])
        return marked.rowcount

    def _preload_batch(
        self, session: Session, timer_ids: list[int]
    ) -> tuple[list[WorkflowTimer], list[Any]]:
        """Load a batch's timers, instances and activities in three queries,
        so firing each timer finds them in the session.

        :returns: the timers in instance order, and every loaded row; the
            caller keeps that list alive because the session holds loaded
            rows only weakly.
        """
        timers = list(
            session.exec(
                select(WorkflowTimer).where(col(WorkflowTimer.id).in_(timer_ids))
            )
        )
        instance_ids = {timer.instance_id for timer in timers}
        activity_ids = {timer.activity_id for timer in timers}
        instances = session.exec(
            select(WorkflowInstance).where(col(WorkflowInstance.id).in_(instance_ids))
        )
        activities = session.exec(
            select(WorkflowActivity).where(col(WorkflowActivity.id).in_(activity_ids))
        )
        rows: list[Any] = [*timers, *instances, *activities]
        ordered = sorted(timers, key=lambda timer: (timer.instance_id, timer.id or 0))
        return ordered, rows

    def _fire_in(
        self, session: Session, timer_id: int, dispatcher_id: str
    ) -> WorkflowTimer | None:
        timer = session.get(WorkflowTimer, timer_id)
        if timer is None or timer.status != "scheduled":
            return None
        if timer.claimed_by not in (None, dispatcher_id):
            return None
        instance = session.get(WorkflowInstance, timer.instance_id)
        assert instance is not None
        now = self.clock.now()
        run = self.make_run(session, instance, "dispatcher", now)
        run.lock()
        if self._mark_fired(session, [timer], now) != 1:
            raise ConcurrentChange(f"timer {timer_id} changed while firing")
        self._act_and_save(run, timer)
        return timer

    def _act_and_save(self, run: Run, timer: WorkflowTimer) -> None:
        """Act on a fired timer unless its activity or instance is closed,
        then write the run's changes."""
        activity = run.session.get(WorkflowActivity, timer.activity_id)
        assert activity is not None
        if activity.status in OPEN and run.instance.status not in (
            "completed",
            "cancelled",
        ):
            self._act_on_timer(run, timer, activity)
        run.save()

    def _act_on_timer(
        self, run: Run, timer: WorkflowTimer, activity: WorkflowActivity
    ) -> None:
        if timer.kind == "wait":
            run.finish(activity)
        elif timer.kind == "repeat":
            if activity.status == "in-progress":
                run.repeat_tick(activity, timer)
        elif timer.kind.startswith("escalate:"):
            run.escalate(activity, int(timer.kind.partition(":")[2]))
        elif timer.kind.startswith("remind:"):
            run.remind(activity, int(timer.kind.partition(":")[2]))

    def hold_after_failure(self, timer_id: int, reason: str) -> None:
        """Put a timer's instance on hold after firing it raised unexpectedly."""

        def work(session: Session) -> None:
            timer = session.get(WorkflowTimer, timer_id)
            if timer is None:
                return
            instance = session.get(WorkflowInstance, timer.instance_id)
            assert instance is not None
            run = self.make_run(session, instance, "dispatcher", self.clock.now())
            run.lock()
            timer.status = "failed"
            session.add(timer)
            instance.status = "on-hold"
            instance.hold_reason = reason
            run.event("instance.on-hold", data={"reason": reason, "timer": timer_id})
            run.save()

        self.transact(work)

    # -- reading -----------------------------------------------------------

    def history(self, instance_id: str) -> list[WorkflowEvent]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(WorkflowEvent)
                    .where(WorkflowEvent.instance_id == instance_id)
                    .order_by(col(WorkflowEvent.id))
                )
            )

    def activities(self, instance_id: str) -> list[WorkflowActivity]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(WorkflowActivity)
                    .where(WorkflowActivity.instance_id == instance_id)
                    .order_by(col(WorkflowActivity.id))
                )
            )

    def count_events(self, instance_id: str, kind: str) -> int:
        with Session(self.engine) as session:
            return int(
                session.exec(
                    select(func.count())
                    .select_from(WorkflowEvent)
                    .where(
                        WorkflowEvent.instance_id == instance_id,
                        WorkflowEvent.kind == kind,
                    )
                ).one()
            )
