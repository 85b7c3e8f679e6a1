import pytest

from tests.workflows.conftest import definition, open_tasks, start, task
from workflows.errors import MigrationRefused
from workflows.versions import migrate_instance

V1 = [task("assess"), task("plan"), task("review")]
# Version 2 moves the assessment after the plan.
V2 = [task("plan"), task("assess"), task("review")]


def _publish(workflows, version, action):
    document = definition("moving-steps", action).document
    document["version"] = version
    from workflows.definitions import compile_definition

    return workflows.publish(compile_definition(document))


def test_completed_step_moved_not_run_again(workflows, nurse):
    """Migration v1 to v2 where a completed step moved: it is not run again."""
    _publish(workflows, 1, V1)
    instance_id = start(workflows, "moving-steps")
    assess = open_tasks(workflows, instance_id)[0]
    workflows.complete(assess.id, account_id=nurse, values={})
    _publish(workflows, 2, V2)

    migrate_instance(workflows, instance_id, to_version=2)
    plan = open_tasks(workflows, instance_id)[0]
    workflows.complete(plan.id, account_id=nurse, values={})

    instance = workflows.instance(instance_id)
    assert instance.version == 2
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["review"]
    assessments = [
        a for a in workflows.activities(instance_id) if a.node_id == "assess"
    ]
    assert [a.status for a in assessments] == ["completed", "completed"]
    assert assessments[1].data == {"skipped": True}
    assert workflows.count_events(instance_id, "step.skipped") == 1
    assert workflows.count_events(instance_id, "instance.migrated") == 1


def test_migration_refused_while_changed_step_in_progress(workflows, nurse):
    """A step that changed in the new version and is being worked on blocks
    the move, and the instance stays on its version."""
    _publish(workflows, 1, V1)
    instance_id = start(workflows, "moving-steps")
    changed = [task("assess", role="doctor"), task("plan"), task("review")]
    _publish(workflows, 2, changed)
    assess = open_tasks(workflows, instance_id)[0]
    workflows.start_work(assess.id, account_id=nurse)

    with pytest.raises(
        MigrationRefused, match="'assess' changed in version 2 and is in-progress"
    ):
        migrate_instance(workflows, instance_id, to_version=2)

    assert workflows.instance(instance_id).version == 1


def test_migration_allowed_for_unstarted_changed_step(workflows, nurse):
    _publish(workflows, 1, V1)
    instance_id = start(workflows, "moving-steps")
    _publish(
        workflows,
        2,
        [task("assess", timing={"due": "PT6H"}), task("plan"), task("review")],
    )

    migrate_instance(workflows, instance_id, to_version=2)

    assert workflows.instance(instance_id).version == 2


def test_migration_needs_map_for_renamed_step(workflows, nurse):
    _publish(workflows, 1, V1)
    instance_id = start(workflows, "moving-steps")
    _publish(workflows, 2, [task("first_assessment"), task("plan"), task("review")])

    with pytest.raises(MigrationRefused, match="--map assess=NEW_ID"):
        migrate_instance(workflows, instance_id, to_version=2)
    migrate_instance(
        workflows, instance_id, to_version=2, step_map={"assess": "first_assessment"}
    )

    assert [t.node_id for t in open_tasks(workflows, instance_id)] == [
        "first_assessment"
    ]
    first = open_tasks(workflows, instance_id)[0]
    workflows.complete(first.id, account_id=nurse, values={})
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["plan"]


def test_held_decision_fixed_by_new_version(workflows, nurse):
    """A condition that fails puts the instance on hold; moving it to a
    corrected version and resuming carries on from the decision."""
    broken = [
        task("assess"),
        {
            "id": "check",
            "type": "decision",
            "branch": [
                # Valid until run: no signal named "missing" has arrived.
                {"condition": "signals.missing > 2", "action": [task("act")]},
                {"otherwise": True, "action": [task("other")]},
            ],
        },
    ]
    fixed = [
        broken[0],
        {
            **broken[1],
            "branch": [
                {"condition": "true", "action": [task("act")]},
                broken[1]["branch"][1],
            ],
        },
    ]
    _publish(workflows, 1, broken)
    instance_id = start(workflows, "moving-steps")
    workflows.complete(
        open_tasks(workflows, instance_id)[0].id, account_id=nurse, values={}
    )
    assert workflows.instance(instance_id).status == "on-hold"
    _publish(workflows, 2, fixed)

    migrate_instance(workflows, instance_id, to_version=2)
    workflows.resume(instance_id)

    instance = workflows.instance(instance_id)
    assert instance.status == "active"
    assert instance.hold_reason is None
    assert [t.node_id for t in open_tasks(workflows, instance_id)] == ["act"]
    assert workflows.count_events(instance_id, "instance.resumed") == 1
