"""Team and role memberships, and who may see and act on a task.

A task is routed to a role at an organisation, in a team or ward. Who holds
that role is looked up from :class:`TeamMembership` each time someone lists
or claims tasks, never copied onto the task, so moving a nurse to another
ward changes what she sees at once.
"""

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from workflows.models import TeamMembership, WorkflowActivity


def add_membership(
    session: Session, *, account_id: int, organisation: str, role: str, team: str | None
) -> TeamMembership:
    """Give an account a role at an organisation (in one team, or all teams)."""
    existing = session.exec(
        select(TeamMembership).where(
            TeamMembership.account_id == account_id,
            TeamMembership.organisation == organisation,
            TeamMembership.role == role,
            TeamMembership.team == team,
        )
    ).first()
    if existing is not None:
        return existing
    membership = TeamMembership(
        account_id=account_id, organisation=organisation, role=role, team=team
    )
    session.add(membership)
    session.flush()
    return membership


def move_to_team(
    session: Session, *, account_id: int, organisation: str, team: str
) -> int:
    """Move every membership the account has at ``organisation`` to ``team``.

    :returns: the number of memberships moved.
    """
    memberships = session.exec(
        select(TeamMembership).where(
            TeamMembership.account_id == account_id,
            TeamMembership.organisation == organisation,
        )
    ).all()
    for membership in memberships:
        membership.team = team
        session.add(membership)
    session.flush()
    return len(memberships)


def memberships_of(session: Session, account_id: int) -> list[TeamMembership]:
    return list(
        session.exec(
            select(TeamMembership)
            .where(TeamMembership.account_id == account_id)
            .order_by(col(TeamMembership.organisation), col(TeamMembership.role))
        )
    )


def _matches_membership(membership: type[TeamMembership]) -> object:
    return and_(
        col(membership.organisation) == col(WorkflowActivity.organisation),
        or_(
            col(membership.role) == col(WorkflowActivity.role),
            col(membership.role) == col(WorkflowActivity.escalated_role),
        ),
        or_(
            col(membership.team).is_(None),
            col(membership.team) == col(WorkflowActivity.team),
        ),
    )


def routed_to(account_id: int, role: str | None = None) -> SelectOfScalar[int]:
    """Select the ids of activities whose routing one of the account's
    memberships (optionally only those with ``role``) matches."""
    query = (
        select(WorkflowActivity.id)
        .join(TeamMembership, _matches_membership(TeamMembership))  # type: ignore[arg-type]
        .where(TeamMembership.account_id == account_id)
    )
    if role is not None:
        query = query.where(TeamMembership.role == role)
    return query  # type: ignore[return-value]


def may_act_on(session: Session, account_id: int, activity: WorkflowActivity) -> bool:
    """Return whether the account holds the task's role (or its escalation
    role) at the task's organisation and team."""
    roles = [activity.role] + (
        [activity.escalated_role] if activity.escalated_role else []
    )
    membership = session.exec(
        select(TeamMembership.id).where(
            TeamMembership.account_id == account_id,
            TeamMembership.organisation == activity.organisation,
            col(TeamMembership.role).in_(roles),
            or_(
                col(TeamMembership.team).is_(None),
                col(TeamMembership.team) == activity.team,
            ),
        )
    ).first()
    return membership is not None
