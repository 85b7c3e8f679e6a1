"""Care protocol data for the demo partnership: the bundled library, ward
memberships for the demo staff and two fictional patients on ward 7.

Running it again changes nothing: publishing identical definitions, adding
existing memberships and starting instances with existing business keys
are all no-ops.
"""

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.service import find_account
from workflows.definitions import bundled_definitions
from workflows.engine import WorkflowEngine
from workflows.routing import add_membership

HOSPITAL = "chelmer-valley"
ORGANISATIONS = {
    "hospital": HOSPITAL,
    "community": "blackwater-community",
    "council": "essex-vale-council",
}
WARD = "ward-7"
# Pseudonymous references of fictional patients, never real identifiers.
DEMO_PATIENTS = (
    ("frailty-admission", "EP-DEMO-1001", "PT-7F3K2Q"),
    ("pressure-ulcer-prevention", "EP-DEMO-1002", "PT-8G4L3R"),
)
WARD_ROLES = ("registered-nurse", "healthcare-assistant", "nurse-in-charge")


def seed_care_demo(
    engine: Engine, staff_emails: list[str], *, echo: Callable[[str], None] = print
) -> None:
    """Publish the library, put the demo staff on ward 7 and admit two
    fictional patients."""
    workflows = WorkflowEngine(engine)
    for definition in bundled_definitions():
        workflows.publish(definition)
    with Session(engine) as session:
        for email in staff_emails:
            account = find_account(session, email)
            if account is None or account.id is None:
                continue
            for role in WARD_ROLES:
                add_membership(
                    session,
                    account_id=account.id,
                    organisation=HOSPITAL,
                    role=role,
                    team=WARD,
                )
        session.commit()
    for definition_id, business_key, subject_ref in DEMO_PATIENTS:
        workflows.start(
            definition_id,
            business_key=business_key,
            subject_ref=subject_ref,
            organisations=ORGANISATIONS,
            teams={"hospital": WARD},
        )
    echo(
        f"Care protocols: {len(DEMO_PATIENTS)} demo patients on {WARD}; "
        f"the demo staff see their tasks under /care/tasks."
    )
