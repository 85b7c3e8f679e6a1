"""A leadership competency from evidence to a verified credential, in a real
Chromium against ``passport serve``.

The learner adds evidence to a clinical and a managerial competency. The
named assessor adds an observation record and signs the clinical one off
alone. On the managerial one the line manager signs first and the
programme lead second. The lead's dashboard counts both as done, both
credentials show in the learner's wallet, and HR uploads the managerial
credential's QR code and sees every check pass. Screenshots go to the same artefacts folder as the
other browser tests.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from accounts.service import create_account, find_account, grant_role
from keys.store import KeyStore
from passport.db import make_engine
from programmes.roles import ACCOUNT_ROLES
from programmes.service import Programmes
from tests.browser.test_walkthrough import (  # noqa: F401 - fixtures
    _sign_in,
    artefacts,
    browser,
    server,
)
from tests.web_support import PASSWORD, SeededPlatform
from verifier.pipeline import CREDENTIAL_CHECKS

pytestmark = pytest.mark.browser

DESK = {"width": 1280, "height": 900}
COHORT = "GLP-BROWSER"
EMPLOYER = "chelmer-valley"
LEAD_ORGANISATION = "colne-estuary"
COMPETENCY = "man-quality-data"
COMPETENCY_TITLE = "Use audit and quality data to improve a service"
CLINICAL = "clin-delegation"
CLINICAL_TITLE = "Delegate and supervise care safely across a team"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass(frozen=True)
class ProgrammePeople:
    assessor_email: str
    manager_email: str
    lead_email: str
    reference: str


@pytest.fixture
def programme(seeded: SeededPlatform) -> ProgrammePeople:
    """Enrol the seeded staff member, who has a wallet, on a cohort led from
    the second trust, with a line manager and an assessor at the employer."""
    settings = seeded.settings
    engine = make_engine(settings.database_url)
    people = {
        "manager": ("manager@chelmer-valley.example", "Jo MOCKUP", "line-manager"),
        "assessor": ("assessor@chelmer-valley.example", "Dana PLACEHOLDER", "assessor"),
        "lead": ("lead@colne-estuary.example", "Priya EXAMPLE", None),
    }
    ids = {}

    with Session(engine) as session:
        for key, (email, name, role) in people.items():
            account = create_account(
                session, email=email, display_name=name, password=PASSWORD
            )
            assert account.id is not None
            if role is not None:
                grant_role(session, account.id, ACCOUNT_ROLES[role], EMPLOYER)
            ids[key] = account.id
        learner = find_account(session, seeded.staff_email)
        assert learner is not None and learner.id is not None
        ids["learner"] = learner.id
        session.commit()

    programmes = Programmes(
        engine, KeyStore(settings.key_passphrase), data_dir=settings.data_dir
    )
    programmes.create_cohort(
        code=COHORT,
        title="Graduate leadership (browser)",
        lead_account_id=ids["lead"],
        lead_organisation=LEAD_ORGANISATION,
        starts_on=date.today(),
    )
    enrolment = programmes.enrol_learner(
        cohort_code=COHORT,
        learner_account_id=ids["learner"],
        organisation=EMPLOYER,
        variant="nursing",
        assessor_account_id=ids["assessor"],
        line_manager_account_id=ids["manager"],
    )
    engine.dispose()
    return ProgrammePeople(
        assessor_email=people["assessor"][0],
        manager_email=people["manager"][0],
        lead_email=people["lead"][0],
        reference=enrolment.reference,
    )


def _add_text_evidence(
    page: Any, competency: str, kind: str, title: str, text: str
) -> None:
    section = page.locator(f"section#{competency}")
    section.get_by_label("Evidence type").select_option(kind)
    section.get_by_label("Title").fill(title)
    section.get_by_label("Text").fill(text)
    section.get_by_role("button", name="Add evidence").click()


def _sign_off_from_queue(page: Any, base_url: str, competency: str) -> None:
    page.goto(f"{base_url}/programmes/queue")
    item = page.locator(f'section.queue-item[data-competency="{competency}"]')
    item.get_by_label("Comment").fill("Clear audit, acted on.")
    item.get_by_role("button", name="Sign off").click()


def _sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_competency_to_verified_credential(  # noqa: F811 - the fixtures above
    programme: ProgrammePeople,
    server: str,  # noqa: F811
    browser: Any,  # noqa: F811
    seeded: SeededPlatform,
    artefacts: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    desk = browser.new_context(viewport=DESK)
    page = desk.new_page()

    # The learner adds a document and a reflection to the managerial
    # competency and a reflection to the clinical one.
    _sign_in(page, server, seeded.staff_email)
    page.get_by_role("link", name="My programme").click()
    section = page.locator(f"section#{COMPETENCY}")
    expect(section).to_contain_text("missing: Uploaded document, Reflection")
    document = tmp_path / "ward-audit.pdf"
    document.write_bytes(PDF)
    section.get_by_label("Evidence type").select_option("document")
    section.get_by_label("Title").fill("Ward falls audit")
    section.get_by_label(re.compile("^File")).set_input_files(str(document))
    section.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".messages")).to_contain_text("Evidence added.")
    _add_text_evidence(
        page,
        COMPETENCY,
        "reflection",
        "What the audit changed",
        "Falls fell after we moved the night checks.",
    )
    expect(page.locator(".messages")).to_contain_text("Evidence added.")
    _add_text_evidence(
        page,
        CLINICAL,
        "reflection",
        "Delegating the drug round",
        "I delegated clearly but should confirm the plan at handover.",
    )
    expect(page.locator(".messages")).to_contain_text("Evidence added.")
    section = page.locator(f"section#{COMPETENCY}")
    expect(section.locator(f'[data-testid="status-{COMPETENCY}"]')).to_have_text("Open")
    expect(section).to_contain_text("ward-audit.pdf")
    page.screenshot(path=artefacts / "1-learner-evidence.png", full_page=True)
    _sign_out(page)

    # The named assessor adds an observation record to the clinical
    # competency and signs it off alone.
    _sign_in(page, server, programme.assessor_email)
    page.goto(f"{server}/programmes/portfolio/{programme.reference}")
    _add_text_evidence(
        page,
        CLINICAL,
        "observation-record",
        "Late shift on ward 7",
        "Allocated the team by acuity and checked back with each nurse.",
    )
    expect(page.locator(".messages")).to_contain_text("Evidence added.")
    _sign_off_from_queue(page, server, CLINICAL)
    expect(page.locator(".messages")).to_contain_text("Signed off")
    page.screenshot(path=artefacts / "2-assessor-signed.png", full_page=True)
    _sign_out(page)

    # The line manager signs first, and the competency waits for the lead.
    _sign_in(page, server, programme.manager_email)
    _sign_off_from_queue(page, server, COMPETENCY)
    expect(page.locator(".messages")).to_contain_text("Signature recorded")
    page.screenshot(path=artefacts / "3-first-signature.png", full_page=True)
    _sign_out(page)

    # The programme lead signs second, which signs the competency off.
    _sign_in(page, server, programme.lead_email)
    _sign_off_from_queue(page, server, COMPETENCY)
    expect(page.locator(".messages")).to_contain_text("Signed off")

    # The lead's dashboard counts both competencies as done.
    page.get_by_role("link", name="Programme dashboard").click()
    expect(page).to_have_url(f"{server}/programmes/dashboard/{COHORT}")
    expect(page.locator('[data-total="signed_off"]')).to_have_text("2")
    expect(page.locator('[data-total="learners"]')).to_have_text("1")
    row = page.locator(f'#learners tr[data-reference="{programme.reference}"]')
    expect(row.locator('[data-figure="signed_off"]')).to_have_text("2")
    expect(row.locator('[data-figure="competencies"]')).to_have_text("13")
    expect(row.locator('[data-figure="percent_complete"]')).to_have_text(
        str(round(200 / 13, 1))
    )
    bar = page.locator('[data-chart="learner-chart"] g.bar')
    expect(bar).to_have_count(1)
    expect(bar.locator('rect[data-kind="done"]')).to_have_attribute("data-value", "2")
    page.screenshot(path=artefacts / "4-lead-dashboard.png", full_page=True)
    export = page.request.get(f"{server}/programmes/dashboard/{COHORT}/progress.csv")
    assert export.ok
    assert programme.reference in export.text()
    _sign_out(page)

    # The learner finds both credentials in the wallet and opens the
    # managerial one's QR code.
    _sign_in(page, server, seeded.staff_email)
    expect(page).to_have_url(f"{server}/wallet/")
    expect(page.locator("li.card")).to_have_count(5)
    clinical_card = page.locator("li.card", has_text=CLINICAL_TITLE)
    expect(clinical_card).to_have_count(1)
    expect(clinical_card.locator(".badge")).to_have_text("Valid")
    card = page.locator("li.card", has_text=COMPETENCY_TITLE)
    expect(card).to_have_count(1)
    expect(card.locator(".badge")).to_have_text("Valid")
    page.screenshot(path=artefacts / "5-wallet.png", full_page=True)
    card.get_by_role("link", name=re.compile("Show QR code")).click()
    qr_link = page.get_by_role("link", name="Open the QR code on its own")
    qr_png = page.request.get(server + qr_link.get_attribute("href"))
    assert qr_png.ok
    qr_path = artefacts / "competency-credential-qr.png"
    qr_path.write_bytes(qr_png.body())
    _sign_out(page)

    # HR verifies the QR code: every check passes.
    _sign_in(page, server, seeded.hr_email)
    page.get_by_label("Or upload a picture of the QR code").set_input_files(
        str(qr_path)
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict h2")).to_have_text("Verified")
    checks = page.locator("li.check")
    expect(checks).to_have_count(len(CREDENTIAL_CHECKS))
    outcomes = checks.evaluate_all("rows => rows.map(r => r.dataset.outcome)")
    assert outcomes == ["pass"] * len(CREDENTIAL_CHECKS)
    expect(page.locator("#claims")).to_contain_text(COMPETENCY_TITLE)
    page.screenshot(path=artefacts / "6-hr-verified.png", full_page=True)
    desk.close()
