from sqlmodel import Session, func, select

from accounts.service import create_account
from workflows.demo import DEMO_PATIENTS, seed_care_demo
from workflows.engine import WorkflowEngine
from workflows.models import TeamMembership, WorkflowDefinition, WorkflowInstance
from workflows.tasks import tasks_for


def test_care_demo_seeds_once(migrated_engine):
    with Session(migrated_engine) as session:
        account = create_account(
            session, email="nurse@example.org", display_name="Nurse", password="x" * 12
        )
        session.commit()
        account_id = account.id
    messages: list[str] = []

    seed_care_demo(migrated_engine, ["nurse@example.org"], echo=messages.append)
    seed_care_demo(migrated_engine, ["nurse@example.org"], echo=messages.append)

    with Session(migrated_engine) as session:
        instances = session.exec(
            select(func.count()).select_from(WorkflowInstance)
        ).one()
        definitions = session.exec(
            select(func.count()).select_from(WorkflowDefinition)
        ).one()
        memberships = session.exec(
            select(func.count()).select_from(TeamMembership)
        ).one()
    assert instances == len(DEMO_PATIENTS)
    assert definitions == 6
    assert memberships == 3
    steps = {
        task.step for task in tasks_for(WorkflowEngine(migrated_engine), account_id)
    }
    assert steps == {"frailty_screen", "admission_assessment"}
    assert "2 demo patients on ward-7" in messages[0]
