"""The programme pages through the real app: upload, download headers,
the assessor queue, sign-off and CSRF."""

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from passport.app import create_app
from passport.settings import Settings
from programmes.service import Programmes
from tests.conftest import TEST_PASSPHRASE
from tests.programmes.conftest import COUNCIL, TRUST, UNIVERSITY
from tests.web_support import csrf_token, sign_in

PASSWORD = "not a real password"
PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def web(programme_sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    path = tmp_path / "passport.db"
    shutil.copyfile(programme_sqlite_template, path)
    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": f"sqlite:///{path}",
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "test secret key",
            "PASSPORT_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    app = create_app({"SETTINGS": settings, "TESTING": True})
    from passport.app import platform
    from programmes.views import programmes_service

    with app.app_context():
        service: Programmes = programmes_service()
        from sqlmodel import Session

        from accounts.service import find_account

        with Session(platform(app).engine) as session:
            ids = {
                name: find_account(session, f"{name}@example.org").id  # type: ignore[union-attr]
                for name in ("learner", "assessor", "lead", "manager", "supervisor")
            }
        service.create_cohort(
            code="GLP-WEB",
            title="Graduate leadership (web)",
            lead_account_id=ids["lead"],
            lead_organisation=COUNCIL,
            starts_on=date(2026, 9, 1),
            university=UNIVERSITY,
        )
        enrolment = service.enrol_learner(
            cohort_code="GLP-WEB",
            learner_account_id=ids["learner"],
            organisation=TRUST,
            variant="nursing",
            assessor_account_id=ids["assessor"],
            line_manager_account_id=ids["manager"],
        )
    yield app, enrolment.reference
    platform(app).dispose()


def upload(
    client: FlaskClient, reference: str, competency: str, name: str, content: bytes
):  # type: ignore[no-untyped-def]
    import io

    page = f"/programmes/portfolio/{reference}"
    token = csrf_token(client, page)
    return client.post(
        f"{page}/{competency}/evidence",
        data={
            "csrf_token": token,
            "evidence_type": "document",
            "title": "Audit report",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_learner_upload_and_download(web: tuple[Flask, str]) -> None:
    app, reference = web
    client = app.test_client()
    sign_in(client, "learner@example.org", PASSWORD)

    rejected = upload(client, reference, "man-quality-data", "a.pdf", b"<html>")
    accepted = upload(client, reference, "man-quality-data", "audit.pdf", PDF)

    assert "not one" in rejected.get_data(as_text=True)
    assert "Evidence added." in accepted.get_data(as_text=True)
    link = accepted.get_data(as_text=True).split('href="/programmes/evidence/')[1]
    evidence_id = link.split('"')[0]
    download = client.get(f"/programmes/evidence/{evidence_id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/octet-stream"
    assert "sandbox" in download.headers["Content-Security-Policy"]


def test_outsider_cannot_see_portfolio(web: tuple[Flask, str]) -> None:
    app, reference = web
    client = app.test_client()
    sign_in(client, "outsider@example.org", PASSWORD)

    response = client.get(f"/programmes/portfolio/{reference}")

    assert response.status_code == 403


def test_assessor_signs_from_queue(web: tuple[Flask, str]) -> None:
    app, reference = web
    learner = app.test_client()
    sign_in(learner, "learner@example.org", PASSWORD)
    page = f"/programmes/portfolio/{reference}"
    for kind, title in (("reflection", "What I learned"),):
        learner.post(
            f"{page}/clin-delegation/evidence",
            data={
                "csrf_token": csrf_token(learner, page),
                "evidence_type": kind,
                "title": title,
                "text": "Delegated the drug round and checked back.",
            },
        )
    supervisor = app.test_client()
    sign_in(supervisor, "supervisor@example.org", PASSWORD)
    supervisor.post(
        f"{page}/clin-delegation/evidence",
        data={
            "csrf_token": csrf_token(supervisor, page),
            "evidence_type": "observation-record",
            "title": "Observed",
            "text": "Clear allocation at handover.",
        },
    )
    assessor = app.test_client()
    sign_in(assessor, "assessor@example.org", PASSWORD)

    queue = assessor.get("/programmes/queue").get_data(as_text=True)
    no_token = assessor.post(
        f"{page}/clin-delegation/decision", data={"action": "sign"}
    )
    signed = assessor.post(
        f"{page}/clin-delegation/decision",
        data={
            "csrf_token": csrf_token(assessor, "/programmes/queue"),
            "action": "sign",
        },
        follow_redirects=True,
    )

    assert 'data-competency="clin-delegation"' in queue
    assert 'value="return" class="button button--secondary"' in queue
    assert no_token.status_code == 400
    assert "Signed off" in signed.get_data(as_text=True)
    portfolio = learner.get(page).get_data(as_text=True)
    assert 'data-testid="status-clin-delegation">Signed off' in portfolio


def sign_clinical_delegation(app: Flask, reference: str) -> None:
    """Add every piece of evidence for clin-delegation and have the named
    assessor sign it off through the service."""
    from tests.programmes.test_service import add_all_evidence

    with app.app_context():
        from sqlmodel import Session

        from accounts.service import find_account
        from passport.app import platform
        from programmes.views import programmes_service

        with Session(platform(app).engine) as session:
            ids = {
                name: find_account(session, f"{name}@example.org").id
                for name in ("learner", "assessor", "supervisor")
            }
        service = programmes_service()
        people = type("People", (), ids)
        add_all_evidence(service, reference, "clin-delegation", people)  # type: ignore[arg-type]
        service.sign_off(reference, "clin-delegation", account_id=ids["assessor"])


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_learner_sign_off_shows_reason(web: tuple[Flask, str]) -> None:
    app, reference = web
    learner = app.test_client()
    sign_in(learner, "learner@example.org", PASSWORD)
    page = f"/programmes/portfolio/{reference}"

    response = learner.post(
        f"{page}/clin-delegation/decision",
        data={"csrf_token": csrf_token(learner, page), "action": "sign"},
        follow_redirects=True,
    )

    text = visible_text(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "You cannot sign off your own competency" in text
    assert "ask your named assessor" in text
    assert 'data-testid="status-clin-delegation">Open' in response.get_data(
        as_text=True
    )


def test_portfolio_shows_plain_labels(web: tuple[Flask, str]) -> None:
    app, reference = web
    sign_clinical_delegation(app, reference)
    assessor = app.test_client()
    sign_in(assessor, "assessor@example.org", PASSWORD)

    html = assessor.get(f"/programmes/portfolio/{reference}").get_data(as_text=True)

    text = visible_text(html)
    assert "Signed by an assessor" in text
    assert "Observation record" in text
    assert 'data-testid="status-clin-delegation">Signed off' in html
    for slug in ("signed-off", "observation-record", "line-manager", "by a assessor"):
        assert slug not in text, slug


def test_withdraw_offered_to_signer_only(web: tuple[Flask, str]) -> None:
    app, reference = web
    sign_clinical_delegation(app, reference)
    page = f"/programmes/portfolio/{reference}"
    form_action = f"{page}/clin-delegation/decision"
    assessor = app.test_client()
    sign_in(assessor, "assessor@example.org", PASSWORD)
    manager = app.test_client()
    sign_in(manager, "manager@example.org", PASSWORD)
    learner = app.test_client()
    sign_in(learner, "learner@example.org", PASSWORD)

    assert form_action in assessor.get(page).get_data(as_text=True)
    assert form_action not in manager.get(page).get_data(as_text=True)
    assert form_action not in learner.get(page).get_data(as_text=True)


def test_evidence_form_has_stacked_fields(web: tuple[Flask, str]) -> None:
    app, reference = web
    learner = app.test_client()
    sign_in(learner, "learner@example.org", PASSWORD)

    html = learner.get(f"/programmes/portfolio/{reference}").get_data(as_text=True)

    form = html.split('action="/programmes/portfolio/')[1].split("</form>")[0]
    assert form.count('class="form-group"') == 4
    assert form.count('class="form-label"') == 4
    assert 'for="clin-delegation-title"' in html


def test_credential_shows_in_wallet(web: tuple[Flask, str]) -> None:
    app, reference = web
    sign_clinical_delegation(app, reference)
    client = app.test_client()
    sign_in(client, "learner@example.org", PASSWORD)

    wallet = client.get("/wallet/")

    assert wallet.status_code == 200
    page = wallet.get_data(as_text=True)
    assert "Delegate and supervise care safely" in page
    # An achievement has no training subject, level or expiry: the card
    # says what it is and when it was awarded instead of empty fields.
    assert "<dt>Kind</dt><dd>Competency</dd>" in page
    assert "<dt>Awarded</dt>" in page
    assert "No expiry date" in page
    assert "<dt>Level</dt>" not in page


def test_lead_counts_prior_learning_page(web: tuple[Flask, str]) -> None:
    import json

    from tests.programmes.test_service import add_all_evidence, wallet_documents

    app, reference = web
    with app.app_context():
        from sqlmodel import Session

        from accounts.service import find_account
        from passport.app import platform
        from programmes.views import programmes_service

        engine = platform(app).engine
        with Session(engine) as session:
            ids = {
                name: find_account(session, f"{name}@example.org").id
                for name in (
                    "learner",
                    "assessor",
                    "supervisor",
                    "outsider",
                    "councilassessor",
                )
            }
        service = programmes_service()
        people = type("People", (), ids)
        add_all_evidence(service, reference, "clin-delegation", people)  # type: ignore[arg-type]
        service.sign_off(reference, "clin-delegation", account_id=ids["assessor"])
        credential = wallet_documents(engine, ids["learner"])[0]
        service.create_cohort(
            code="GLP-WEB-2",
            title="Social care leadership",
            lead_account_id=ids["outsider"],
            lead_organisation=COUNCIL,
            starts_on=date(2027, 1, 4),
        )
        newcomer = service.enrol_learner(
            cohort_code="GLP-WEB-2",
            learner_account_id=ids["learner"],
            organisation=COUNCIL,
            variant="social-care",
            assessor_account_id=ids["councilassessor"],
        ).reference
    lead = app.test_client()
    sign_in(lead, "outsider@example.org", PASSWORD)
    page = f"/programmes/portfolio/{newcomer}"

    garbled = lead.post(
        f"{page}/prior-learning",
        data={"csrf_token": csrf_token(lead, page), "credential": "{not json"},
        follow_redirects=True,
    )
    counted = lead.post(
        f"{page}/prior-learning",
        data={
            "csrf_token": csrf_token(lead, page),
            "credential": json.dumps(credential),
        },
        follow_redirects=True,
    )

    assert "unreadable" in garbled.get_data(as_text=True)
    html = counted.get_data(as_text=True)
    assert "Counted clin-delegation" in html
    assert 'data-testid="status-clin-delegation">Counted as prior learning' in html


def test_changed_file_is_not_served(web: tuple[Flask, str], tmp_path: Path) -> None:
    from programmes.evidence import EVIDENCE_FOLDER

    app, reference = web
    client = app.test_client()
    sign_in(client, "learner@example.org", PASSWORD)
    page = upload(client, reference, "man-quality-data", "audit.pdf", PDF)
    evidence_id = (
        page.get_data(as_text=True)
        .split('href="/programmes/evidence/')[1]
        .split('"')[0]
    )
    for stored in (tmp_path / "data" / EVIDENCE_FOLDER).iterdir():
        stored.write_bytes(b"%PDF-1.7 replaced")

    response = client.get(f"/programmes/evidence/{evidence_id}")

    assert response.status_code == 410
