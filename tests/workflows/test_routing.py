from sqlmodel import Session

from tests.workflows.conftest import create_account, definition, open_tasks, start, task
from workflows.routing import move_to_team
from workflows.tasks import tasks_for


def test_nurse_moved_team_sees_new_tasks(workflows, migrated_engine):
    """A nurse moved to another team sees her new team's tasks at once."""
    workflows.publish(definition("ward-round", [task("observe")]))
    ward_7 = start(workflows, "ward-round", key="episode-7")
    ward_9 = workflows.start(
        "ward-round",
        business_key="episode-9",
        subject_ref="PT-EPISODE-9",
        organisations={"hospital": "chelmer-valley", "council": "essex-county"},
        teams={"hospital": "ward-9"},
    ).instance_id
    nurse = create_account(
        migrated_engine,
        "moving@example.org",
        memberships=[("chelmer-valley", "rn", "ward-7")],
    )

    before = [item.instance_id for item in tasks_for(workflows, nurse)]
    with Session(migrated_engine) as session:
        move_to_team(
            session, account_id=nurse, organisation="chelmer-valley", team="ward-9"
        )
        session.commit()
    after = [item.instance_id for item in tasks_for(workflows, nurse)]

    assert before == [ward_7]
    assert after == [ward_9]
    observe_9 = open_tasks(workflows, ward_9)[0]
    workflows.claim(observe_9.id, account_id=nurse)


def test_escalated_task_visible_to_nurse_in_charge(workflows, migrated_engine, clock):
    from datetime import timedelta

    from workflows.dispatcher import Dispatcher

    workflows.publish(
        definition(
            "turning",
            [
                task(
                    "turn",
                    role="hca",
                    escalation=[
                        {
                            "after": "PT1H",
                            "participant": {
                                "role": "nurse-in-charge",
                                "organisation": "hospital",
                            },
                        }
                    ],
                )
            ],
        )
    )
    start(workflows, "turning")
    in_charge = create_account(
        migrated_engine,
        "nic@example.org",
        memberships=[("chelmer-valley", "nurse-in-charge", "ward-7")],
    )
    assert tasks_for(workflows, in_charge) == []

    clock.advance(timedelta(minutes=61))
    Dispatcher(workflows).run_once()

    visible = tasks_for(workflows, in_charge)
    assert [item.step for item in visible] == ["turn"]
    assert visible[0].escalated is True
    assert visible[0].overdue is False
