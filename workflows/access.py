"""Who may see what: memberships of the signed-in account.

Task routing uses :class:`~workflows.models.TeamMembership`; platform roles
come from the accounts package. A patient's timeline and a ward's metrics
are shown only to accounts with a role at one of the organisations
involved.
"""

from sqlmodel import Session, col, select

from workflows.engine import WorkflowEngine
from workflows.models import TeamMembership, WorkflowInstance
from workflows.routing import memberships_of


def member_organisations(workflows: WorkflowEngine, account_id: int) -> set[str]:
    with Session(workflows.engine) as session:
        return {
            membership.organisation
            for membership in memberships_of(session, account_id)
        }


def may_see_subject(
    workflows: WorkflowEngine, account_id: int, subject_ref: str
) -> bool:
    """Return whether the account has a role at an organisation that an
    instance for this patient routes work to."""
    organisations = member_organisations(workflows, account_id)
    with Session(workflows.engine) as session:
        instances = session.exec(
            select(WorkflowInstance.organisations).where(
                WorkflowInstance.subject_ref == subject_ref
            )
        ).all()
    return any(organisations & set(mapping.values()) for mapping in instances)


def may_see_ward(
    workflows: WorkflowEngine, account_id: int, organisation: str, ward: str
) -> bool:
    with Session(workflows.engine) as session:
        found = session.exec(
            select(TeamMembership.id).where(
                TeamMembership.account_id == account_id,
                TeamMembership.organisation == organisation,
                (col(TeamMembership.team).is_(None))
                | (col(TeamMembership.team) == ward),
            )
        ).first()
    return found is not None
