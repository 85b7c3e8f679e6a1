"""Fixtures for the programmes: a migrated database with three organisations
(a trust, the council and the university) and the people of one cohort.

Creating organisations costs about half a second each (sealing keys,
drawing status list permutations), so each database kind is prepared once
per test session as a template and each test gets its own copy.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from accounts.service import create_account, grant_role
from issuer.organisations import create_organisation
from keys.store import KeyStore
from passport.db import make_engine, upgrade_database
from programmes.roles import ACCOUNT_ROLES
from programmes.service import Programmes
from tests.conftest import (
    TEST_PASSPHRASE,
    create_postgres_database,
    drop_postgres_database,
)
from workflows.clock import FakeClock

BASE_URL = "https://passport.example.org"
START = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
TRUST = "chelmer-valley"
COUNCIL = "essex-vale-council"
UNIVERSITY = "university-of-mersea"
ORGANISATIONS = (
    (TRUST, "Chelmer Valley Hospitals NHS Foundation Trust", "acute trust"),
    (COUNCIL, "Essex Vale County Council, Adult Social Care", "local authority"),
    (UNIVERSITY, "University of Mersea", "university"),
)
# (email, organisation of the role, programme role or None)
PEOPLE = (
    ("learner@example.org", None, None),
    ("learner2@example.org", None, None),
    ("assessor@example.org", TRUST, "assessor"),
    ("assessor2@example.org", TRUST, "assessor"),
    ("supervisor@example.org", TRUST, "practice-supervisor"),
    ("manager@example.org", TRUST, "line-manager"),
    ("lead@example.org", COUNCIL, None),
    ("academic@example.org", UNIVERSITY, "assessor"),
    ("councilassessor@example.org", COUNCIL, "assessor"),
    ("outsider@example.org", None, None),
)


def seed(url: str) -> None:
    engine = make_engine(url)
    key_store = KeyStore(TEST_PASSPHRASE)
    with Session(engine) as session:
        for slug, name, kind in ORGANISATIONS:
            create_organisation(
                session,
                key_store,
                slug=slug,
                name=name,
                org_type=kind,
                cstf_aligned=False,
                esr_vpd_code=None,
                base_url=BASE_URL,
                at=START,
            )
        for email, organisation, role in PEOPLE:
            account = create_account(
                session,
                email=email,
                display_name=email.split("@")[0].capitalize(),
                password="not a real password",
            )
            assert account.id is not None
            if role is not None:
                grant_role(session, account.id, ACCOUNT_ROLES[role], organisation)
        session.commit()
    engine.dispose()


@pytest.fixture(scope="session")
def programme_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("programmes") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def programme_postgres_template() -> Iterator[str]:
    url = create_postgres_database()
    upgrade_database(url)
    seed(url)
    yield make_url(url).database or ""
    drop_postgres_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def programme_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "passport.db"
        shutil.copyfile(request.getfixturevalue("programme_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = create_postgres_database(
        request.getfixturevalue("programme_postgres_template")
    )
    yield url
    drop_postgres_database(url)


@pytest.fixture
def programme_engine(programme_url: str) -> Iterator[Engine]:
    engine = make_engine(programme_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def programmes(
    programme_engine: Engine, clock: FakeClock, tmp_path: Path
) -> Programmes:
    return Programmes(
        programme_engine,
        KeyStore(TEST_PASSPHRASE),
        data_dir=tmp_path / "data",
        clock=clock,
    )


@dataclass(frozen=True)
class People:
    learner: int
    learner2: int
    assessor: int
    assessor2: int
    supervisor: int
    manager: int
    lead: int
    academic: int
    councilassessor: int
    outsider: int


@pytest.fixture
def people(programme_engine: Engine) -> People:
    from accounts.service import find_account

    ids = {}
    with Session(programme_engine) as session:
        for email, _, _ in PEOPLE:
            account = find_account(session, email)
            assert account is not None and account.id is not None
            ids[email.split("@")[0]] = account.id
    return People(**ids)


@pytest.fixture
def enrolment_ref(programmes: Programmes, people: People) -> str:
    """A nursing learner at the trust, on a cohort led from the council."""
    programmes.create_cohort(
        code="GLP-2026",
        title="Graduate leadership 2026",
        lead_account_id=people.lead,
        lead_organisation=COUNCIL,
        starts_on=date(2026, 9, 1),
        university=UNIVERSITY,
    )
    enrolment = programmes.enrol_learner(
        cohort_code="GLP-2026",
        learner_account_id=people.learner,
        organisation=TRUST,
        variant="nursing",
        assessor_account_id=people.assessor,
        line_manager_account_id=people.manager,
    )
    return enrolment.reference
