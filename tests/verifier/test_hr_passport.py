"""HR's passport pages through the Flask test client: receiving a shared
passport, the report, CSV, decisions, issuing records and role profiles."""

import csv
import io
import json
import re
from importlib import resources

import pytest
from PIL import Image
from sqlmodel import select

from accounts.service import create_account, find_account, grant_role
from credentials.qr_payload import encode_credential
from issuer.models import IssuedCredential
from issuer.service import pending_offers
from passport.app import create_app
from passport.db import make_engine, session_scope
from passport.settings import Settings
from tests.conftest import TEST_PASSPHRASE
from tests.verifier.hr_flow import make_share_link, receive
from tests.web_support import PASSWORD, csrf_token, seed_platform, sign_in
from verifier.errors import ProfileNotFound
from verifier.hr_profiles import HR_ADMIN
from verifier.models import HrDecision, PresentationRequest
from verifier.received_models import ReceivedPassport
from verifier.requirements import get_profile
from wallet_web.qr import render_qr

PROFILE = "healthcare-assistant-adult-ward"
PROFILE_CODES = next(
    entry["requirements"]
    for entry in json.loads(
        resources.files("verifier").joinpath("data", "role_profiles.json").read_text()
    )
    if entry["slug"] == PROFILE
)


def _database(seeded):
    return make_engine(seeded.settings.database_url)


def _add_account(seeded, email, role, organisation):
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            account = create_account(
                session, email=email, display_name="Jo TESTER", password=PASSWORD
            )
            grant_role(session, account.id, role, organisation)
    finally:
        engine.dispose()


def _rows(page: str) -> dict[str, str]:
    return dict(
        re.findall(r'data-subject="([A-Z0-9]+)" data-outcome="([a-z0-9-]+)"', page)
    )


def _checks(page: str, section: str) -> dict[str, str]:
    part = page.split(f'id="{section}"')[1].split("</ul>")[0]
    return dict(re.findall(r'data-check="([a-z-]+)" data-outcome="([a-z]+)"', part))


@pytest.fixture
def shared(app, seeded):
    """A staff member's share URL of every valid credential, and HR signed in."""
    url = make_share_link(app.test_client(), seeded.staff_email)
    hr = app.test_client()
    sign_in(hr, seeded.hr_email)
    return url, hr


@pytest.fixture
def report_path(shared):
    url, hr = shared
    response = receive(hr, url)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def test_typed_link_received_and_verified(shared, report_path):
    _, hr = shared

    page = hr.get(f"{report_path}?profile={PROFILE}").get_data(as_text=True)

    assert "Presentation verified" in page
    checks = _checks(page, "presentation-checks")
    assert set(checks.values()) == {"pass"}
    for check in ("challenge", "challenge-issued", "domain", "holder-binding"):
        assert checks[check] == "pass"
    rows = _rows(page)
    assert rows["CR"] == "accepted"
    assert rows["FS"] == "expiring-30"
    # The expired credential was not ticked, so it was not shared.
    assert rows["IGDS"] == "missing"
    assert rows["MH2"] == "missing"
    assert list(rows) == PROFILE_CODES
    assert "Chelmer Valley Hospitals NHS Foundation Trust" in page
    assert "Chloé STUB" in page


def test_second_use_of_link_fails(shared, report_path):
    url, hr = shared

    response = receive(hr, url)

    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)


def test_scanner_text_with_spaces_accepted(shared):
    url, hr = shared
    response = receive(hr, f"  {url}\r\n")
    assert response.status_code == 302


def test_uploaded_qr_image_received(shared):
    url, hr = shared
    token = csrf_token(hr, "/hr/passports/receive")

    response = hr.post(
        "/hr/passports/receive",
        data={
            "csrf_token": token,
            "image": (io.BytesIO(render_qr(url).png), "share.png"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert "/hr/passports/" in response.headers["Location"]


def test_receive_without_csrf_rejected(shared, seeded):
    url, hr = shared

    response = hr.post("/hr/passports/receive", data={"scanned": url})

    assert response.status_code == 400
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(ReceivedPassport)).all() == []
            assert session.exec(select(PresentationRequest)).all() == []
    finally:
        engine.dispose()


def test_link_on_unlisted_origin_refused(shared):
    _, hr = shared

    response = receive(hr, "https://wallet.elsewhere.example/s/AAAAAAAAAAAAAAAAAAAAAA")

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "is not on an origin the trust registry lists" in page
    assert "for partnership wallets" in page
    assert "it was not fetched" in page


def test_text_that_is_not_a_link_rejected(shared):
    _, hr = shared
    response = receive(hr, "hello")
    assert response.status_code == 400
    assert "is not a passport share link" in response.get_data(as_text=True)


def test_own_origin_path_outside_share_rejected(shared):
    _, hr = shared
    response = receive(hr, "http://127.0.0.1:5000/s/../wallet/")
    assert response.status_code == 400
    assert "is not a share link" in response.get_data(as_text=True)


def test_offline_credential_qr_still_verified(shared, seeded):
    _, hr = shared

    response = receive(hr, encode_credential(seeded.documents["valid"]))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ">Verified<" in page
    assert "Holder binding:" in page
    assert "Live status:" in page


def test_credential_check_page_states_offline_limits(shared, seeded):
    _, hr = shared
    token = csrf_token(hr, "/hr/verify")

    response = hr.post(
        "/hr/verify",
        data={
            "csrf_token": token,
            "payload": encode_credential(seeded.documents["valid"]),
        },
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert "What this check cannot show" in page
    assert "Holder binding:" in page


def test_scan_frame_decodes_qr(shared):
    url, hr = shared
    token = csrf_token(hr, "/hr/passports/receive")
    frame = Image.new("L", (640, 480), 255)
    frame.paste(Image.open(io.BytesIO(render_qr(url).png)).convert("L"), (100, 20))
    buffer = io.BytesIO()
    frame.save(buffer, format="JPEG", quality=90)

    found = hr.post(
        "/hr/passports/scan-frame",
        data=buffer.getvalue(),
        headers={"X-CSRFToken": token, "Content-Type": "image/jpeg"},
    )
    blank = io.BytesIO()
    Image.new("L", (640, 480), 255).save(blank, format="JPEG")
    empty = hr.post(
        "/hr/passports/scan-frame",
        data=blank.getvalue(),
        headers={"X-CSRFToken": token, "Content-Type": "image/jpeg"},
    )

    assert found.get_json() == {"text": url}
    assert empty.get_json() == {"text": None}


def test_scan_frame_needs_csrf_and_hr(shared, app, seeded):
    _, hr = shared
    assert hr.post("/hr/passports/scan-frame", data=b"x").status_code == 400
    staff = app.test_client()
    sign_in(staff, seeded.staff_email)
    token = csrf_token(staff, "/wallet/share")
    response = staff.post(
        "/hr/passports/scan-frame", data=b"x", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 403


def test_hr_pages_forbidden_to_staff(app, seeded):
    staff = app.test_client()
    sign_in(staff, seeded.staff_email)
    assert staff.get("/hr/passports/receive").status_code == 403
    assert staff.get("/hr/passports/").status_code == 403


def test_report_hidden_from_other_organisation(app, seeded, report_path):
    _add_account(seeded, "hr@chelmer-valley.example", "hr", "chelmer-valley")
    other = app.test_client()
    sign_in(other, "hr@chelmer-valley.example")

    assert other.get(report_path).status_code == 404
    assert other.get(f"{report_path}/report.csv").status_code == 404


def test_received_passports_listed(shared, report_path):
    _, hr = shared
    page = hr.get("/hr/passports/").get_data(as_text=True)
    assert report_path in page
    assert "hr@colne-estuary.example" in page
    assert "<td>Chloé STUB</td>" in page


def test_report_profile_choice(shared, report_path):
    _, hr = shared

    admin_page = hr.get(f"{report_path}?profile=administrative-clerical")
    missing = hr.get(f"{report_path}?profile=no-such-profile")

    rows = _rows(admin_page.get_data(as_text=True))
    assert "CR" not in rows
    assert rows["FS"] == "expiring-30"
    assert rows["RES1"] == "missing"
    assert missing.status_code == 404


def test_report_csv_content(shared, report_path):
    _, hr = shared

    response = hr.get(f"{report_path}/report.csv?profile={PROFILE}")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_code = {row["subject_code"]: row for row in rows}
    assert [row["subject_code"] for row in rows] == PROFILE_CODES
    assert by_code["CR"]["outcome"] == "accepted"
    assert by_code["CR"]["issuer"] == "Chelmer Valley Hospitals NHS Foundation Trust"
    assert by_code["CR"]["credential_id"].startswith("urn:uuid:")
    assert by_code["FS"]["outcome"] == "expiring-30"
    assert int(by_code["FS"]["days_left"]) < 30
    assert by_code["MH2"]["outcome"] == "missing"
    assert by_code["MH2"]["reason"] == "No credential for this subject was shared."


def test_report_prints_without_controls(shared, report_path):
    _, hr = shared
    page = hr.get(report_path).get_data(as_text=True)
    assert 'media="print"' in page
    assert "report-print.css" in page
    css = hr.get("/hr/passports/static/report-print.css").get_data(as_text=True)
    assert ".profile-picker" in css


def test_decision_recorded_with_who_and_when(shared, report_path, seeded):
    _, hr = shared
    public_id = report_path.rsplit("/", 1)[1]
    token = csrf_token(hr, report_path)

    response = hr.post(
        f"{report_path}/decisions",
        data={
            "csrf_token": token,
            "profile": PROFILE,
            "decision-CR": "accept",
            "decision-MH2": "redo",
            "note": "Moving and handling booked for Monday.",
        },
    )

    assert response.status_code == 302
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            decisions = session.exec(
                select(HrDecision).where(HrDecision.report_id == public_id)
            ).all()
            by_code = {row.subject_code: row for row in decisions}
            assert set(by_code) == {"CR", "MH2"}
            assert by_code["CR"].decision == "accept"
            assert by_code["CR"].outcome == "accepted"
            assert by_code["MH2"].decision == "redo"
            assert by_code["MH2"].outcome == "missing"
            assert by_code["CR"].decided_by == seeded.hr_email
            assert by_code["CR"].decided_at is not None
            assert by_code["CR"].organisation_slug == "colne-estuary"
            assert by_code["CR"].note == "Moving and handling booked for Monday."
    finally:
        engine.dispose()
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-decision="accept"' in page
    assert 'data-decision="redo"' in page


def test_decision_without_csrf_rejected(shared, report_path, seeded):
    _, hr = shared
    response = hr.post(
        f"{report_path}/decisions", data={"profile": PROFILE, "decision-CR": "accept"}
    )
    assert response.status_code == 400
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(HrDecision)).all() == []
    finally:
        engine.dispose()


def test_unknown_decision_rejected(shared, report_path, seeded):
    _, hr = shared
    token = csrf_token(hr, report_path)
    response = hr.post(
        f"{report_path}/decisions",
        data={"csrf_token": token, "profile": PROFILE, "decision-CR": "approve"},
    )
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "is not one of accept, redo, review" in page
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(HrDecision)).all() == []
    finally:
        engine.dispose()


def test_missing_subject_not_accepted_as_held(shared, report_path, seeded):
    _, hr = shared
    token = csrf_token(hr, report_path)
    response = hr.post(
        f"{report_path}/decisions",
        data={
            "csrf_token": token,
            "profile": PROFILE,
            "decision-CR": "accept",
            "decision-MH2": "accept",
        },
    )
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "cannot be accepted as held: it is missing" in page
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(HrDecision)).all() == []
    finally:
        engine.dispose()


def test_accepted_subjects_issued_as_own_records(shared, report_path, seeded):
    _, hr = shared
    token = csrf_token(hr, report_path)
    data = {"csrf_token": token, "profile": PROFILE, "subjects": ["CR", "FS"]}

    first = hr.post(f"{report_path}/issue", data=data)
    again = hr.post(f"{report_path}/issue", data={**data, "csrf_token": token})

    assert first.status_code == 302
    assert again.status_code == 302
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            issued = session.exec(select(IssuedCredential)).all()
            assert len(issued) == 2
            assert {row.subject_code for row in issued} == {"CR", "FS"}
            completions = {
                code: seeded.documents[status]["credentialSubject"]["completionDate"]
                for status, code in (("valid", "CR"), ("expiring", "FS"))
            }
            for row in issued:
                assert row.completed_on == completions[row.subject_code]
                assert "orgs:colne-estuary" in row.document
            staff = find_account(session, seeded.staff_email)
            offers = pending_offers(session, staff.wallet_id)
            assert {offer.id for offer in offers} == {row.id for row in issued}
    finally:
        engine.dispose()
    page = hr.get(again.headers["Location"]).get_data(as_text=True)
    assert "2 had been issued before" in page


def test_issue_of_unaccepted_subject_rejected(shared, report_path, seeded):
    _, hr = shared
    token = csrf_token(hr, report_path)
    hr.post(
        f"{report_path}/issue",
        data={"csrf_token": token, "profile": PROFILE, "subjects": ["MH2"]},
    )
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(IssuedCredential)).all() == []
    finally:
        engine.dispose()


def test_issue_without_csrf_rejected(shared, report_path):
    _, hr = shared
    response = hr.post(
        f"{report_path}/issue", data={"profile": PROFILE, "subjects": ["CR"]}
    )
    assert response.status_code == 400


def test_profiles_visible_to_hr_but_not_editable(shared):
    _, hr = shared
    page = hr.get("/hr/profiles/").get_data(as_text=True)
    assert "Registered nurse, adult ward" in page
    assert "New profile" not in page
    assert hr.get("/hr/profiles/new").status_code == 403
    assert hr.post("/hr/profiles/midwife", data={}).status_code in (400, 403)


def test_hr_admin_edits_profile(app, seeded):
    _add_account(seeded, "hr-admin@colne-estuary.example", HR_ADMIN, "colne-estuary")
    admin = app.test_client()
    sign_in(admin, "hr-admin@colne-estuary.example")
    admin.get("/hr/profiles/")
    path = "/hr/profiles/midwife"
    token = csrf_token(admin, path)

    response = admin.post(
        path,
        data={
            "csrf_token": token,
            "slug": "midwife",
            "name": "Midwife",
            "description": "Trimmed for a test.",
            "requirements": "fs, hsw  RES2N",
        },
    )

    assert response.status_code == 302
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            profile = get_profile(session, "midwife")
            assert profile.requirements == ("FS", "HSW", "RES2N")
            assert profile.description == "Trimmed for a test."
    finally:
        engine.dispose()


def test_hr_admin_unknown_code_rejected(app, seeded):
    _add_account(seeded, "hr-admin@colne-estuary.example", HR_ADMIN, "colne-estuary")
    admin = app.test_client()
    sign_in(admin, "hr-admin@colne-estuary.example")
    token = csrf_token(admin, "/hr/profiles/new")

    response = admin.post(
        "/hr/profiles/new",
        data={
            "csrf_token": token,
            "slug": "porter",
            "name": "Porter",
            "requirements": "FS XYZ",
        },
    )
    without_csrf = admin.post(
        "/hr/profiles/new",
        data={"slug": "porter", "name": "Porter", "requirements": "FS"},
    )

    assert response.status_code == 400
    assert "Unknown subject code(s) &#39;XYZ&#39;" in response.get_data(as_text=True)
    assert without_csrf.status_code == 400
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            with pytest.raises(ProfileNotFound):
                get_profile(session, "porter")
    finally:
        engine.dispose()


def test_changing_pages_forbidden_to_staff(app, seeded, report_path):
    staff = app.test_client()
    sign_in(staff, seeded.staff_email)
    token = csrf_token(staff, "/wallet/share")
    posts = {
        "/hr/passports/receive": {"scanned": "http://127.0.0.1:5000/s/x"},
        f"{report_path}/decisions": {"profile": PROFILE, "decision-CR": "accept"},
        f"{report_path}/issue": {"profile": PROFILE, "subjects": ["CR"]},
        "/hr/profiles/new": {"slug": "porter", "name": "Porter", "requirements": "FS"},
    }

    for path, data in posts.items():
        response = staff.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path


def test_other_organisation_cannot_decide_or_issue(app, seeded, report_path):
    _add_account(seeded, "hr@chelmer-valley.example", "hr", "chelmer-valley")
    other = app.test_client()
    sign_in(other, "hr@chelmer-valley.example")
    token = csrf_token(other, "/hr/passports/receive")

    decided = other.post(
        f"{report_path}/decisions",
        data={"csrf_token": token, "profile": PROFILE, "decision-CR": "accept"},
    )
    issued = other.post(
        f"{report_path}/issue",
        data={"csrf_token": token, "profile": PROFILE, "subjects": ["CR"]},
    )

    assert decided.status_code == 404
    assert issued.status_code == 404
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            assert session.exec(select(HrDecision)).all() == []
            assert session.exec(select(IssuedCredential)).all() == []
    finally:
        engine.dispose()


@pytest.fixture
def postgres_app(postgres_url, tmp_path):
    """The seeded web platform on a fresh PostgreSQL database."""
    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": postgres_url,
            "PASSPORT_KEY_PASSPHRASE": TEST_PASSPHRASE,
            "PASSPORT_SECRET_KEY": "test secret key",
            "PASSPORT_PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    seeded = seed_platform(settings)
    app = create_app({"SETTINGS": settings, "TESTING": True})
    yield app, seeded
    app.extensions["platform"].dispose()


@pytest.mark.postgres
def test_share_receive_decide_on_postgresql(postgres_app):
    app, seeded = postgres_app
    url = make_share_link(app.test_client(), seeded.staff_email)
    hr = app.test_client()
    sign_in(hr, seeded.hr_email)

    received = receive(hr, url)
    again = receive(hr, url)
    report_path = received.headers["Location"]
    page = hr.get(f"{report_path}?profile={PROFILE}").get_data(as_text=True)
    token = csrf_token(hr, report_path)
    decided = hr.post(
        f"{report_path}/decisions",
        data={"csrf_token": token, "profile": PROFILE, "decision-FS": "review"},
    )

    assert received.status_code == 302
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert "Presentation verified" in page
    assert _rows(page)["FS"] == "expiring-30"
    assert decided.status_code == 302
    engine = _database(seeded)
    try:
        with session_scope(engine) as session:
            decision = session.exec(select(HrDecision)).one()
            assert decision.subject_code == "FS"
            assert decision.decision == "review"
            assert decision.decided_by == seeded.hr_email
            assert decision.decided_at.tzinfo is not None
    finally:
        engine.dispose()
