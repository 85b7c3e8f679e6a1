"""The programme's roles, as account roles and as workflow task roles.

The framework and the workflow engine name roles with hyphens
(``practice-supervisor``), because task routing uses slugs. Account role
grants use underscores (``practice_supervisor``), because role names are
identifiers. :func:`account_role` converts one into the other. Every
programme role is held at an organisation: a supervisor, assessor or line
manager at the learner's employer (an assessor at the university for
academic modules), a programme lead at the cohort's lead organisation.
"""

from accounts.roles import define_role

LEARNER = "learner"
PRACTICE_SUPERVISOR = "practice-supervisor"
ASSESSOR = "assessor"
LINE_MANAGER = "line-manager"
PROGRAMME_LEAD = "programme-lead"

ROLE_LABELS = {
    LEARNER: "Programme learner",
    PRACTICE_SUPERVISOR: "Practice supervisor",
    ASSESSOR: "Assessor",
    LINE_MANAGER: "Line manager",
    PROGRAMME_LEAD: "Programme lead",
}


ACCOUNT_ROLES = {
    LEARNER: "programme_learner",
    PRACTICE_SUPERVISOR: "practice_supervisor",
    ASSESSOR: "programme_assessor",
    LINE_MANAGER: "line_manager",
    PROGRAMME_LEAD: "programme_lead",
}


def account_role(role: str) -> str:
    """Return the account role name of a framework role (``line-manager`` to
    ``line_manager``).

    :raises KeyError: for a role the programme does not define.
    """
    return ACCOUNT_ROLES[role]


for _role, _label in ROLE_LABELS.items():
    define_role(ACCOUNT_ROLES[_role], _label)

LEARNER_ROLE = ACCOUNT_ROLES[LEARNER]
PROGRAMME_LEAD_ROLE = ACCOUNT_ROLES[PROGRAMME_LEAD]
STAFF_ROLES = tuple(ACCOUNT_ROLES[role] for role in ROLE_LABELS if role != LEARNER)
"""Account roles that contribute to or sign off other people's portfolios."""
