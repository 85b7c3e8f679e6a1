"""Benchmark the programme lead's dashboard and the sign-off latency.

Builds a cohort of 500 learners with 40 competencies each (by default) on
SQLite and on PostgreSQL. Its records are in every state the dashboard
counts: signed off, counted from prior learning, awaiting sign-off (some for
more than 14 days, so overdue), returned, partly evidenced and untouched,
and every learner's start review is overdue. Then measures, as the median
and the 95th percentile of repeated runs:

- a baseline in the same run: one ``count(*)`` over the cohort's
  competency records joined to its enrolments;
- ``Programmes.progress`` (the figures behind the dashboard and
  ``passport programmes progress --json``);
- the dashboard page and its CSV through the Flask test client, signed in
  as the programme lead;
- a sign-off that completes a competency and issues its credential into
  the learner's wallet, and the first of two signatures.

The target is the cohort dashboard page in under 200 ms.

Run: ``.venv/bin/python bench/programme_dashboard.py [--learners N]
[--competencies N] [--repeat N] [--no-postgres]``. The PostgreSQL part needs
the server at ``PASSPORT_TEST_POSTGRES`` (as the tests do) and creates and
drops its own database.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, insert, text, update
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accounts.models import UserAccount  # noqa: E402
from accounts.service import create_account, grant_role  # noqa: E402
from issuer.organisations import create_organisation  # noqa: E402
from keys.store import KeyStore  # noqa: E402
from passport.app import create_app  # noqa: E402
from passport.db import make_engine, upgrade_database  # noqa: E402
from passport.settings import Settings  # noqa: E402
from programmes.framework import (  # noqa: E402
    Framework,
    library_path,
    load_framework,
)
from programmes.models import (  # noqa: E402
    CompetencyRecord,
    EvidenceItem,
    ProgrammeEnrolment,
    SignOffDecision,
)
from programmes.roles import ACCOUNT_ROLES  # noqa: E402
from programmes.service import Programmes  # noqa: E402
from programmes.views import EXTENSION  # noqa: E402
from tests.conftest import (  # noqa: E402
    TEST_PASSPHRASE,
    create_postgres_database,
    drop_postgres_database,
)
from tests.web_support import sign_in  # noqa: E402
from workflows.clock import FakeClock  # noqa: E402
from workflows.dispatcher import Dispatcher  # noqa: E402

FRAMEWORK_ID = "graduate-leadership-bench"
COHORT = "GLP-BENCH"
EMPLOYER = "chelmer-valley"
LEAD_ORGANISATION = "essex-vale-council"
PASSWORD = "benchmark password"
BASE_URL = "http://127.0.0.1:5000"
TARGET_MS = 200.0
# The learners started this many days before the run, so the start review
# (due 14 days after the start) is overdue and the oldest evidence is too.
STARTED_DAYS_AGO = 30
# The state of each competency record, by its position in the learner's
# list modulo ten: four signed off, one counted, two awaiting sign-off, one
# returned with its evidence, one with part of its evidence, one untouched.
STATES = (
    "signed-off",
    "signed-off",
    "signed-off",
    "signed-off",
    "counted",
    "awaiting",
    "awaiting",
    "returned",
    "partial",
    "open",
)


def write_framework(folder: Path, competencies: int) -> Framework:
    """Write and load a copy of the bundled framework with ``competencies``
    per variant.

    The copy repeats the common competencies with numbered ids, so each
    extra one keeps a real domain, evidence list and sign-off rule.
    """
    document = yaml.safe_load((library_path() / "graduate-leadership.yaml").read_text())
    document["id"] = FRAMEWORK_ID
    items = document["programme"]["competencies"]
    common = [item for item in items if "variants" not in item]
    nursing = [item for item in items if "nursing" in item.get("variants", ["nursing"])]
    for number in range(competencies - len(nursing)):
        template = dict(common[number % len(common)])
        template["id"] = f"{template['id']}-{number + 2}"
        template["title"] = f"{template['title']} ({number + 2})"
        items.append(template)
    path = folder / f"{FRAMEWORK_ID}.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_framework(path)


@dataclass
class Cohort:
    programmes: Programmes
    clock: FakeClock
    framework: Framework
    ids: dict[str, int]
    awaiting: dict[str, list[tuple[str, str]]]
    seed_seconds: float


def seed(url: str, data_dir: Path, learners: int, framework: Framework) -> Cohort:
    """Create the organisations, the people and the cohort in every state."""
    started = time.perf_counter()
    upgrade_database(url)
    engine = make_engine(url)
    key_store = KeyStore(TEST_PASSPHRASE)
    now = datetime.now(UTC)
    start = now - timedelta(days=STARTED_DAYS_AGO)
    ids = {}
    with Session(engine) as session:
        for slug, name, kind in (
            (EMPLOYER, "Chelmer Valley Hospitals NHS Foundation Trust", "acute trust"),
            (LEAD_ORGANISATION, "Essex Vale County Council", "local authority"),
        ):
            create_organisation(
                session,
                key_store,
                slug=slug,
                name=name,
                org_type=kind,
                cstf_aligned=False,
                base_url=BASE_URL,
            )
        for name, role in (
            ("lead", None),
            ("assessor", "assessor"),
            ("manager", "line-manager"),
        ):
            account = create_account(
                session,
                email=f"{name}@bench.example",
                display_name=f"Bench {name}",
                password=PASSWORD,
            )
            assert account.id is not None
            ids[name] = account.id
            if role is not None:
                grant_role(session, account.id, ACCOUNT_ROLES[role], EMPLOYER)
        # Learners never sign in here, so they skip the slow password hash.
        session.execute(
            insert(UserAccount),
            [
                {
                    "email": f"learner{number}@bench.example",
                    "display_name": f"Learner {number:04d}",
                    "password_hash": "!",
                    "created_at": now,
                }
                for number in range(learners)
            ],
        )
        session.commit()
        learner_ids = list(
            session.exec(
                select(UserAccount.id)
                .where(col(UserAccount.email).like("learner%@bench.example"))
                .order_by(col(UserAccount.id))
            )
        )

    clock = FakeClock(start)
    service = Programmes(engine, key_store, data_dir=data_dir, clock=clock)
    service.create_cohort(
        code=COHORT,
        title="Graduate leadership benchmark",
        lead_account_id=ids["lead"],
        lead_organisation=LEAD_ORGANISATION,
        starts_on=start.date(),
        framework=framework,
    )
    for learner_id in learner_ids:
        assert learner_id is not None
        service.enrol_learner(
            cohort_code=COHORT,
            learner_account_id=learner_id,
            organisation=EMPLOYER,
            variant="nursing",
            assessor_account_id=ids["assessor"],
            line_manager_account_id=ids["manager"],
        )
    # Opens each learner's start review, due 14 days after the start.
    Dispatcher(service.workflows).run_once()
    awaiting = set_states(service, framework, ids, start)
    clock.set(now)
    return Cohort(
        service, clock, framework, ids, awaiting, time.perf_counter() - started
    )


def set_states(
    service: Programmes, framework: Framework, ids: dict[str, int], start: datetime
) -> dict[str, list[tuple[str, str]]]:
    """Write the records' states, evidence and signatures in bulk.

    :returns: (reference, competency) awaiting sign-off, by sign-off rule.
    """
    evidence_rows: list[dict[str, Any]] = []
    decision_rows: list[dict[str, Any]] = []
    status_rows: list[dict[str, Any]] = []
    awaiting: dict[str, list[tuple[str, str]]] = {}
    with Session(service.engine) as session:
        rows = session.exec(
            select(
                CompetencyRecord.id,
                CompetencyRecord.competency,
                ProgrammeEnrolment.reference,
                ProgrammeEnrolment.learner_account_id,
            )
            .join(
                ProgrammeEnrolment,
                col(ProgrammeEnrolment.id) == CompetencyRecord.enrolment_id,
            )
            .order_by(col(CompetencyRecord.id))
        ).all()
        position: dict[str, int] = {}
        for record_id, competency_id, reference, learner_id in rows:
            index = position.get(reference, 0)
            position[reference] = index + 1
            state = STATES[index % len(STATES)]
            competency = framework.competencies[competency_id]
            added_at = start + timedelta(days=index % STARTED_DAYS_AGO)
            kinds = competency.evidence
            if state == "partial":
                kinds = kinds[:1]
            elif state == "open":
                kinds = ()
            for kind in kinds:
                evidence_rows.append(
                    {
                        "record_id": record_id,
                        "evidence_type": kind,
                        "title": f"{kind} for {competency_id}",
                        "text": "Benchmark evidence.",
                        "added_by_account_id": learner_id,
                        "added_by_role": "learner",
                        "added_at": added_at,
                    }
                )
            if state == "signed-off":
                decision_rows.append(
                    {
                        "record_id": record_id,
                        "round": 1,
                        "account_id": ids["assessor"],
                        "role": "assessor",
                        "decision": "signed",
                        "decided_at": added_at,
                    }
                )
                status_rows.append(
                    {"id": record_id, "status": state, "signed_off_at": added_at}
                )
            elif state == "counted":
                status_rows.append(
                    {
                        "id": record_id,
                        "status": state,
                        "counted_credential_id": f"urn:uuid:bench-{record_id}",
                    }
                )
            elif state == "returned":
                status_rows.append({"id": record_id, "status": state, "round": 2})
            elif state == "awaiting":
                awaiting.setdefault(competency.sign_off, []).append(
                    (reference, competency_id)
                )
        session.execute(insert(EvidenceItem), evidence_rows)
        session.execute(insert(SignOffDecision), decision_rows)
        for state in ("signed-off", "counted", "returned"):
            session.execute(
                update(CompetencyRecord),
                [row for row in status_rows if row["status"] == state],
            )
        session.commit()
    return awaiting


def timed(work: Callable[[], Any], repeat: int) -> list[float]:
    """Run ``work`` once to warm up, then ``repeat`` times; milliseconds."""
    work()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(
    url: str, folder: Path, framework: Framework, args: argparse.Namespace
) -> dict[str, Any]:
    data_dir = folder / "data"
    cohort = seed(url, data_dir, args.learners, framework)
    service = cohort.programmes
    results: dict[str, Any] = {"seed seconds": cohort.seed_seconds}
    with Session(service.engine) as session:
        records = session.exec(select(func.count()).select_from(CompetencyRecord)).one()
        evidence = session.exec(select(func.count()).select_from(EvidenceItem)).one()
    results["records"] = records
    results["evidence"] = evidence

    def baseline() -> None:
        with service.engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT count(*) FROM programme_competency c "
                    "JOIN programme_enrolment e ON e.id = c.enrolment_id "
                    "JOIN programme_cohort k ON k.id = e.cohort_id "
                    "WHERE k.code = :code"
                ),
                {"code": COHORT},
            ).scalar_one()

    results["baseline"] = timed(baseline, args.repeat)
    progress = service.progress(COHORT)
    totals = progress.totals()
    results["totals"] = totals
    results["progress"] = timed(lambda: service.progress(COHORT), args.repeat)

    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(data_dir),
            "DATABASE_URL": url,
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "benchmark secret key",
            "PASSPORT_PUBLIC_URL": BASE_URL,
        }
    )
    app = create_app({"SETTINGS": settings, "TESTING": True})
    from passport.app import platform as platform_of

    client = app.test_client()
    sign_in(client, "lead@bench.example", PASSWORD)
    page_url = f"/programmes/dashboard/{COHORT}"

    def get(path: str) -> Callable[[], None]:
        def work() -> None:
            response = client.get(path)
            assert response.status_code == 200, response.status_code

        return work

    results["page"] = timed(get(page_url), args.repeat)
    results["csv"] = timed(get(f"{page_url}/progress.csv"), args.repeat)
    results["page bytes"] = len(client.get(page_url).data)
    platform_of(app).dispose()
    app.extensions.pop(EXTENSION, None)

    results["sign-off issuing"] = sign_offs(
        service, cohort, "practice-assessor", "assessor", args.sign_offs
    )
    results["first of two signatures"] = sign_offs(
        service, cohort, "manager-and-lead", "manager", args.sign_offs
    )
    service.engine.dispose()
    return results


def sign_offs(
    service: Programmes, cohort: Cohort, rule: str, signer: str, count: int
) -> list[float]:
    """Sign ``count`` awaiting competencies of ``rule``, one per learner."""
    seen: set[str] = set()
    times = []
    for reference, competency_id in cohort.awaiting[rule]:
        if reference in seen:
            continue
        seen.add(reference)
        competency = cohort.framework.competencies[competency_id]
        started = time.perf_counter()
        result = service.sign_off(
            reference,
            competency_id,
            account_id=cohort.ids[signer],
            rating=competency.expected_rating,
        )
        times.append((time.perf_counter() - started) * 1000)
        assert result.signed_off == (rule == "practice-assessor"), result
        if len(times) == count:
            break
    return times


def report(name: str, results: dict[str, Any]) -> None:
    baseline = statistics.median(results["baseline"])
    totals = results["totals"]
    print(f"\n{name}")
    print(
        f"  seeded in {results['seed seconds']:.1f} s: {totals['learners']} learners, "
        f"{results['records']} competency records, {results['evidence']} evidence "
        f"items; {totals['percent_complete']}% done, "
        f"{totals['awaiting_sign_off']} awaiting sign-off, "
        f"{totals['overdue_sign_offs']} overdue sign-offs, "
        f"{totals['overdue_reviews']} overdue reviews"
    )
    print(f"  {'measurement':<36} {'median ms':>10} {'p95 ms':>9} {'/baseline':>10}")
    for key in (
        "baseline",
        "progress",
        "page",
        "csv",
        "sign-off issuing",
        "first of two signatures",
    ):
        values = results[key]
        median = statistics.median(values)
        print(
            f"  {key:<36} {median:>10.1f} {percentile(values, 0.95):>9.1f} "
            f"{median / baseline:>10.1f}"
        )
    page = statistics.median(results["page"])
    verdict = "met" if page < TARGET_MS else "missed"
    print(
        f"  dashboard page: {page:.0f} ms median, {results['page bytes']:,} bytes; "
        f"target {TARGET_MS:.0f} ms {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500, help="cohort size")
    parser.add_argument(
        "--competencies", type=int, default=40, help="competencies per learner"
    )
    parser.add_argument(
        "--repeat", type=int, default=15, help="timed runs of each measurement"
    )
    parser.add_argument(
        "--sign-offs", type=int, default=15, help="sign-offs timed of each kind"
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="measure SQLite only"
    )
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        framework = write_framework(folder, args.competencies)
        sqlite_folder = folder / "sqlite"
        sqlite_folder.mkdir()
        results = measure(
            f"sqlite:///{sqlite_folder / 'passport.db'}", sqlite_folder, framework, args
        )
        report("SQLite", results)
        if not args.no_postgres:
            url = create_postgres_database()
            postgres_folder = folder / "postgres"
            postgres_folder.mkdir()
            try:
                results = measure(url, postgres_folder, framework, args)
            finally:
                drop_postgres_database(url)
            report("PostgreSQL", results)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
