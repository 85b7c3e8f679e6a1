"""The programme lead's dashboard and CSV against the progress command.

Each test builds a cohort of two learners through the service, then reads
the page, the CSV and ``passport programmes progress --json`` on the same
database (SQLite and PostgreSQL).
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session

from accounts.models import UserAccount
from passport.app import create_app
from passport.cli import main
from passport.settings import Settings
from programmes.export import FIGURE_COLUMNS
from programmes.service import Programmes
from tests.conftest import TEST_PASSPHRASE
from tests.programmes.conftest import TRUST, People
from tests.programmes.test_service import add_all_evidence
from tests.web_support import sign_in

PASSWORD = "not a real password"
COHORT = "GLP-2026"
FORMULA_NAME = '=HYPERLINK("https://attacker.example","x")'


@pytest.fixture
def cohort_app(
    programme_url: str,
    programmes: Programmes,
    enrolment_ref: str,
    people: People,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    """The app over a cohort with work in every state: one competency signed
    off, one awaiting sign-off since the clock's start (overdue by now), one
    returned, and a second learner whose name is a spreadsheet formula."""
    add_all_evidence(programmes, enrolment_ref, "clin-delegation", people)
    programmes.sign_off(enrolment_ref, "clin-delegation", account_id=people.assessor)
    add_all_evidence(programmes, enrolment_ref, "man-change", people)
    add_all_evidence(programmes, enrolment_ref, "clin-ward-coordination", people)
    programmes.return_competency(
        enrolment_ref,
        "clin-ward-coordination",
        account_id=people.assessor,
        comment="Add the shift you coordinated alone.",
    )
    second = programmes.enrol_learner(
        cohort_code=COHORT,
        learner_account_id=people.learner2,
        organisation=TRUST,
        variant="midwifery",
        assessor_account_id=people.assessor2,
    )
    programmes.add_evidence(
        second.reference,
        "per-shared-purpose",
        account_id=people.learner2,
        evidence_type="reflection",
        title="Why I lead",
        text="Safer births on a busy unit.",
    )
    with Session(programmes.engine) as session:
        account = session.get(UserAccount, people.learner2)
        assert account is not None
        account.display_name = FORMULA_NAME
        session.add(account)
        session.commit()

    environment = {
        "DATABASE_URL": programme_url,
        "PASSPORT_DATA_DIR": str(tmp_path / "data"),
        "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env(
        {
            **environment,
            "PASSPORT_SECRET_KEY": "test secret key",
            "PASSPORT_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    app = create_app({"SETTINGS": settings, "TESTING": True})
    yield app
    from passport.app import platform

    platform(app).dispose()


def lead_client(app: Flask) -> FlaskClient:
    client = app.test_client()
    sign_in(client, "lead@example.org", PASSWORD)
    return client


def cli_figures() -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["programmes", "progress", "--cohort", COHORT, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


class FigureParser(HTMLParser):
    """Collect the dashboard's ``data-total`` and ``data-figure`` cells."""

    def __init__(self) -> None:
        super().__init__()
        self.totals: dict[str, str] = {}
        self.learners: dict[str, dict[str, str]] = {}
        self._row: str | None = None
        self._cell: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("data-reference"):
            self._row = values["data-reference"]
        if tag == "dd" and values.get("data-total"):
            self._cell = ("total", values["data-total"] or "")
        if tag == "td" and values.get("data-figure") and self._row:
            self._cell = (self._row, values["data-figure"] or "")

    def handle_data(self, data: str) -> None:
        if self._cell is None:
            return
        owner, name = self._cell
        if owner == "total":
            self.totals[name] = data.strip()
        else:
            self.learners.setdefault(owner, {})[name] = data.strip()
        self._cell = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None


def number(text: str) -> int | float:
    return float(text) if "." in text else int(text)


def test_page_figures_match_cli(cohort_app: Flask) -> None:
    client = lead_client(cohort_app)

    response = client.get(f"/programmes/dashboard/{COHORT}")
    figures = cli_figures()

    assert response.status_code == 200
    parser = FigureParser()
    parser.feed(response.get_data(as_text=True))
    page_totals = {key: number(value) for key, value in parser.totals.items()}
    assert page_totals == figures["totals"]
    assert len(parser.learners) == len(figures["learners"])
    for learner in figures["learners"]:
        cells = parser.learners[learner["reference"]]
        for column in FIGURE_COLUMNS:
            assert number(cells[column]) == learner[column], column


def test_fixture_covers_every_state(cohort_app: Flask) -> None:
    # The comparisons above prove little on zeros, so check the fixture's
    # cohort has a figure in each column. A returned competency whose
    # evidence is complete waits for sign-off again.
    figures = cli_figures()

    totals = figures["totals"]
    assert totals["learners"] == 2
    assert totals["signed_off"] == 1
    assert totals["awaiting_sign_off"] == 3
    assert totals["overdue_sign_offs"] == 3
    first = figures["learners"][0]
    assert first["returned"] == 1
    assert first["awaiting_sign_off"] == 2


def test_csv_matches_cli(cohort_app: Flask) -> None:
    client = lead_client(cohort_app)

    response = client.get(f"/programmes/dashboard/{COHORT}/progress.csv")
    figures = cli_figures()

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{COHORT}-progress.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["reference"] for row in rows] == [
        learner["reference"] for learner in figures["learners"]
    ]
    for row, learner in zip(rows, figures["learners"], strict=True):
        assert row["cohort"] == COHORT
        for column in FIGURE_COLUMNS:
            assert number(row[column]) == learner[column], column
        for domain, counts in learner["by_domain"].items():
            assert int(row[f"{domain}_done"]) == counts.get("done", 0)
            assert int(row[f"{domain}_competencies"]) == counts["competencies"]


def test_csv_keeps_formula_as_text(cohort_app: Flask) -> None:
    client = lead_client(cohort_app)

    response = client.get(f"/programmes/dashboard/{COHORT}/progress.csv")

    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1]["learner"] == "'" + FORMULA_NAME
    assert not any(
        value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values()
    )


def test_charts_are_inline_svg(cohort_app: Flask) -> None:
    client = lead_client(cohort_app)

    response = client.get(f"/programmes/dashboard/{COHORT}")

    html = response.get_data(as_text=True)
    assert "<script" not in html
    assert " style=" not in html
    assert html.count('<g class="bar"') == 2 + 1 + 3
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    learner_bars = re.findall(
        r'<g class="bar" data-label="[^"]*" data-done="(\d+)" data-total="(\d+)"',
        html.split('data-chart="learner-chart"')[1],
    )
    figures = cli_figures()
    assert learner_bars == [
        (str(item["signed_off"] + item["counted"]), str(item["competencies"]))
        for item in figures["learners"]
    ]


def test_learners_split_into_pages(
    cohort_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import programmes.dashboard

    monkeypatch.setattr(programmes.dashboard, "LEARNERS_PER_PAGE", 1)
    client = lead_client(cohort_app)
    figures = cli_figures()

    pages = [client.get(f"/programmes/dashboard/{COHORT}?page={n}") for n in (1, 2)]
    beyond = client.get(f"/programmes/dashboard/{COHORT}?page=3")

    for page, learner in zip(pages, figures["learners"], strict=True):
        assert page.status_code == 200
        parser = FigureParser()
        parser.feed(page.get_data(as_text=True))
        assert list(parser.learners) == [learner["reference"]]
        assert number(parser.totals["learners"]) == 2
    assert 'rel="next"' in pages[0].get_data(as_text=True)
    assert 'rel="prev"' in pages[1].get_data(as_text=True)
    assert beyond.status_code == 404


def test_index_opens_only_cohort(cohort_app: Flask) -> None:
    client = lead_client(cohort_app)

    response = client.get("/programmes/dashboard/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/programmes/dashboard/{COHORT}")


@pytest.mark.parametrize(
    ("email", "status"),
    [("assessor@example.org", 403), ("learner@example.org", 403)],
)
def test_other_roles_rejected(cohort_app: Flask, email: str, status: int) -> None:
    client = cohort_app.test_client()
    sign_in(client, email, PASSWORD)

    page = client.get(f"/programmes/dashboard/{COHORT}")
    export = client.get(f"/programmes/dashboard/{COHORT}/progress.csv")

    assert page.status_code == status
    assert export.status_code == status


def test_other_cohort_not_found(
    cohort_app: Flask, programmes: Programmes, people: People
) -> None:
    from datetime import date

    from tests.programmes.conftest import TRUST as OTHER_ORGANISATION

    programmes.create_cohort(
        code="GLP-OTHER",
        title="Another lead's cohort",
        lead_account_id=people.manager,
        lead_organisation=OTHER_ORGANISATION,
        starts_on=date(2026, 9, 1),
    )
    client = lead_client(cohort_app)

    page = client.get("/programmes/dashboard/GLP-OTHER")
    export = client.get("/programmes/dashboard/GLP-OTHER/progress.csv")
    missing = client.get("/programmes/dashboard/NO-SUCH-COHORT")

    assert page.status_code == 404
    assert export.status_code == 404
    assert missing.status_code == 404
