"""Moving running instances to another version of their definition.

Running instances stay on the version they started with. Moving one needs an
explicit step map (old step id to new step id; unmapped steps keep their id)
and is refused, with every reason listed, when:

- an open step has no counterpart in the new version;
- a changed step is already being worked on (``accepted``, ``in-progress``
  or ``on-hold``), because its recorded work was for the old wording;
- an open step would end up under a different block than its open parent.

Steps completed before the move are recorded on the instance and skipped if
the new version reaches them again, so completed work never runs twice.
"""

from typing import Any

from sqlmodel import Session, col, select

from workflows.definitions import ROOT, Definition, Node
from workflows.engine import WorkflowEngine, actor_of
from workflows.errors import InstanceNotFound, MigrationRefused
from workflows.models import WorkflowActivity, WorkflowInstance
from workflows.runtime import OPEN

STARTED = ("accepted", "in-progress", "on-hold")


def own_spec(node: Node) -> dict[str, Any]:
    """Return a step's own settings, leaving out the steps nested in it."""
    spec = {key: value for key, value in node.spec.items() if key != "action"}
    if "branch" in spec:
        spec["branch"] = [
            {key: value for key, value in branch.items() if key != "action"}
            for branch in spec["branch"]
        ]
    return spec


def _inside_repeat(definition: Definition, node_id: str) -> bool:
    node = definition.nodes.get(node_id)
    while node is not None and node.parent is not None:
        parent = definition.node(node.parent)
        if parent.kind == "repeat":
            return True
        node = parent
    return False


def _map_step(step_map: dict[str, str], node_id: str) -> str:
    if node_id in step_map:
        return step_map[node_id]
    decision, dot, branch = node_id.partition(".")
    if dot and decision in step_map:
        return f"{step_map[decision]}.{branch}"
    return node_id


def plan_migration(
    old: Definition,
    new: Definition,
    open_activities: list[WorkflowActivity],
    step_map: dict[str, str],
) -> list[str]:
    """List every reason the move cannot be made (empty when it can)."""
    problems: list[str] = []
    by_id = {activity.id: activity for activity in open_activities}
    for activity in open_activities:
        target = _map_step(step_map, activity.node_id)
        if target not in new.nodes:
            problems.append(
                f"open step {activity.node_id!r} has no step {target!r} in version "
                f"{new.version}; map it with --map {activity.node_id}=NEW_ID"
            )
            continue
        changed = own_spec(old.node(activity.node_id)) != own_spec(new.node(target))
        # A decision or repeat on hold has done nothing yet, so moving it to a
        # corrected version is how a failing condition gets fixed.
        held_block = activity.status == "on-hold" and activity.kind not in (
            "task",
            "handoff",
        )
        if changed and activity.status in STARTED and not held_block:
            problems.append(
                f"step {activity.node_id!r} changed in version {new.version} and is "
                f"{activity.status}; finish or release it before moving"
            )
        parent = by_id.get(activity.parent_id) if activity.parent_id else None
        expected_parent = new.node(target).parent
        if (
            parent is not None
            and _map_step(step_map, parent.node_id) != expected_parent
        ):
            problems.append(
                f"open step {activity.node_id!r} would move out of its block "
                f"{parent.node_id!r} in version {new.version}"
            )
        if parent is None and target != ROOT:
            problems.append(f"open step {activity.node_id!r} has no parent block")
    return problems


def migrate_instance(
    workflows: WorkflowEngine,
    instance_id: str,
    *,
    to_version: int,
    step_map: dict[str, str] | None = None,
    account_id: int | None = None,
) -> None:
    """Move one instance to ``to_version`` of its definition.

    :raises MigrationRefused: listing every reason the move is refused.
    """
    mapping = dict(step_map or {})

    def work(session: Session) -> None:
        instance = session.get(WorkflowInstance, instance_id)
        if instance is None:
            raise InstanceNotFound(f"no workflow instance {instance_id!r}")
        if instance.status in ("completed", "cancelled"):
            raise MigrationRefused(
                f"instance {instance_id} is already {instance.status}"
            )
        _, old = workflows.load_definition(
            session, instance.definition_id, instance.version
        )
        new_pk, new = workflows.load_definition(
            session, instance.definition_id, to_version
        )
        activities = list(
            session.exec(
                select(WorkflowActivity)
                .where(WorkflowActivity.instance_id == instance_id)
                .where(col(WorkflowActivity.status).in_(OPEN))
            )
        )
        problems = plan_migration(old, new, activities, mapping)
        if problems:
            raise MigrationRefused(
                f"cannot move instance {instance_id} to version {to_version}: "
                + "; ".join(problems)
            )
        completed = session.exec(
            select(WorkflowActivity.node_id)
            .where(WorkflowActivity.instance_id == instance_id)
            .where(WorkflowActivity.status == "completed")
            .distinct()
        ).all()

        run = workflows.make_run(
            session, instance, actor_of(account_id), workflows.clock.now()
        )
        run.lock()
        for activity in activities:
            target = _map_step(mapping, activity.node_id)
            if target != activity.node_id:
                activity.node_id = target
                session.add(activity)
        skip = {
            _map_step(mapping, node_id)
            for node_id in completed
            if not _inside_repeat(old, node_id)
        }
        instance.skip_nodes = sorted(
            node_id
            for node_id in skip | set(instance.skip_nodes)
            if node_id in new.nodes
        )
        from_version = instance.version
        instance.definition_pk = new_pk
        instance.version = new.version
        run.event(
            "instance.migrated",
            data={"from": from_version, "to": new.version, "stepMap": mapping},
        )
        run.save()

    workflows.transact(work)
