"""Leadership programme data for the demo partnership: one cohort across
two trusts and the council, led from the council, with its people.

Every person is fictional. Running it again changes nothing: accounts,
grants, the cohort and the enrolments are found by their keys, and the
sample evidence and sign-off are added only where missing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from accounts.service import create_account, find_account, grant_role
from keys.store import KeyStore
from programmes.roles import ACCOUNT_ROLES, ROLE_LABELS
from programmes.service import Programmes
from workflows.dispatcher import Dispatcher

COHORT = "GLP-2026"
COHORT_TITLE = "Graduate leadership programme 2026"
COHORT_START = date(2026, 9, 7)
LEAD_ORGANISATION = "essex-vale-council"
UNIVERSITY = "university-of-mersea"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    name: str
    role: str | None
    organisation: str | None


LEAD = DemoPerson(
    "lead@essex-vale-council.example",
    "Priya EXAMPLE (programme lead)",
    "programme-lead",
    LEAD_ORGANISATION,
)
STAFF = (
    DemoPerson(
        "assessor@chelmer-valley.example",
        "Dana PLACEHOLDER (assessor)",
        "assessor",
        "chelmer-valley",
    ),
    DemoPerson(
        "supervisor@chelmer-valley.example",
        "Lee SPECIMEN (practice supervisor)",
        "practice-supervisor",
        "chelmer-valley",
    ),
    DemoPerson(
        "manager@chelmer-valley.example",
        "Jo MOCKUP (line manager)",
        "line-manager",
        "chelmer-valley",
    ),
    DemoPerson(
        "assessor@colne-estuary.example",
        "Kit PROTOTYPE (assessor)",
        "assessor",
        "colne-estuary",
    ),
    DemoPerson(
        "manager@colne-estuary.example",
        "Sol STANDIN (line manager)",
        "line-manager",
        "colne-estuary",
    ),
    DemoPerson(
        "manager@essex-vale-council.example",
        "Bo SURROGATE (line manager)",
        "line-manager",
        LEAD_ORGANISATION,
    ),
    DemoPerson(
        "assessor@essex-vale-council.example",
        "Ash FICTIONAL (assessor)",
        "assessor",
        LEAD_ORGANISATION,
    ),
    DemoPerson(
        "academic@university-of-mersea.example",
        "Rowan INVENTED (academic assessor)",
        "assessor",
        UNIVERSITY,
    ),
)
# (learner, employer, variant, entry route, assessor email, line manager email)
LEARNERS = (
    (
        DemoPerson("robin.tester@nhs-staff.example", "Robin TESTER", None, None),
        "chelmer-valley",
        "nursing",
        "newly-qualified",
        "assessor@chelmer-valley.example",
        "manager@chelmer-valley.example",
    ),
    (
        DemoPerson("morgan.example@nhs-staff.example", "Morgan EXAMPLE", None, None),
        "colne-estuary",
        "midwifery",
        "newly-qualified",
        "assessor@colne-estuary.example",
        "manager@colne-estuary.example",
    ),
    (
        DemoPerson("casey.demo@essex-vale.example", "Casey DEMO", None, None),
        LEAD_ORGANISATION,
        "social-care",
        "entry-assessment",
        "assessor@essex-vale-council.example",
        "manager@essex-vale-council.example",
    ),
)


def _account_id(session: Session, person: DemoPerson, password: str) -> int:
    account = find_account(session, person.email) or create_account(
        session, email=person.email, display_name=person.name, password=password
    )
    assert account.id is not None
    if person.role is not None:
        grant_role(session, account.id, ACCOUNT_ROLES[person.role], person.organisation)
    return account.id


def seed_programme_demo(
    engine: Engine,
    key_store: KeyStore,
    data_dir: Path,
    *,
    password: str,
    echo: Callable[[str], None] = print,
) -> list[tuple[str, str]]:
    """Create the demo cohort and its people, and sign off one competency.

    :returns: (label, email) of the sign-ins to print.
    """
    with Session(engine) as session:
        ids = {
            person.email: _account_id(session, person, password)
            for person in (LEAD, *STAFF, *(row[0] for row in LEARNERS))
        }
        session.commit()
    programmes = Programmes(engine, key_store, data_dir=data_dir)
    programmes.create_cohort(
        code=COHORT,
        title=COHORT_TITLE,
        lead_account_id=ids[LEAD.email],
        lead_organisation=LEAD_ORGANISATION,
        starts_on=COHORT_START,
        university=UNIVERSITY,
        actor="system:demo",
    )
    references = []
    for learner, employer, variant, route, assessor, manager in LEARNERS:
        enrolment = programmes.enrol_learner(
            cohort_code=COHORT,
            learner_account_id=ids[learner.email],
            organisation=employer,
            variant=variant,
            entry_route=route,
            assessor_account_id=ids[assessor],
            line_manager_account_id=ids[manager] if manager else None,
            actor="system:demo",
        )
        references.append(enrolment.reference)
    _sample_sign_off(programmes, references[0], ids)
    # One dispatcher pass opens the reviews whose dates have passed, as the
    # scheduler of a running platform would.
    Dispatcher(programmes.workflows).run_once()
    echo(
        f"Leadership programme: cohort {COHORT} with {len(LEARNERS)} learners at "
        f"{', '.join(sorted({row[1] for row in LEARNERS}))}; "
        f"see /programmes/ and 'passport programmes progress --cohort {COHORT}'."
    )
    sign_ins = [
        (f"programme learner ({row[0].name})", row[0].email) for row in LEARNERS
    ]
    for person in (LEAD, *STAFF):
        label = ROLE_LABELS[person.role or ""].lower()
        sign_ins.append((f"{label} at {person.organisation}", person.email))
    return sign_ins


def _sample_sign_off(
    programmes: Programmes, reference: str, ids: dict[str, int]
) -> None:
    """Give the first learner one competency signed off, with its credential."""
    competency = "clin-delegation"
    portfolio = programmes.portfolio(reference)
    item = next(c for c in portfolio.competencies if c.id == competency)
    if item.status != "open" or item.evidence:
        return
    programmes.add_evidence(
        reference,
        competency,
        account_id=ids["supervisor@chelmer-valley.example"],
        evidence_type="observation-record",
        title="Late shift on ward 7",
        text="Allocated the team by acuity and checked back with each nurse.",
    )
    programmes.add_evidence(
        reference,
        competency,
        account_id=ids["robin.tester@nhs-staff.example"],
        evidence_type="reflection",
        title="Delegating the drug round",
        text="I delegated clearly but should confirm the plan at handover.",
    )
    programmes.sign_off(
        reference, competency, account_id=ids["assessor@chelmer-valley.example"]
    )
