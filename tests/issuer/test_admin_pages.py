"""The issuer administrator's pages and the staff claim pages, in a real app."""

import io
import logging
import re
import time

import pytest
from sqlmodel import Session, select

from audit.log import recent_entries
from examples.synthetic_export import export_rows, write_export
from issuer.claim_views import CLAIM_FAILURE_LIMIT
from issuer.models import IssuedCredential
from passport.app import MAX_REQUEST_BYTES
from passport.db import make_engine
from tests.web_support import PASSWORD, csrf_token, sign_in

ADMIN = "/issuer/chelmer-valley"
# Upper bound for a stuck background import, not a performance limit.
IMPORT_TIMEOUT_SECONDS = 120


def export_bytes(staff: int, **options) -> bytes:
    text = io.StringIO(newline="")
    write_export(text, export_rows(staff, **options))
    return text.getvalue().encode("utf-8")


def upload(client, data: bytes, name: str = "team.csv"):
    token = csrf_token(client, f"{ADMIN}/imports")
    return client.post(
        f"{ADMIN}/imports",
        data={
            "csrf_token": token,
            "export": (io.BytesIO(data), name),
            "as_of": "2026-03-31",
        },
        content_type="multipart/form-data",
    )


def wait_for_import(client, location: str) -> str:
    deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        page = client.get(location).get_data(as_text=True)
        if 'data-state="running"' not in page:
            return page
        time.sleep(0.2)
    raise AssertionError(f"the import at {location} did not finish")


def imported(client, seeded, staff: int = 2, **options) -> str:
    sign_in(client, seeded.admin_email)
    response = upload(client, export_bytes(staff, **options))
    assert response.status_code == 302
    return wait_for_import(client, response.headers["Location"])


def credential_ids(seeded) -> list[str]:
    engine = make_engine(seeded.settings.database_url)
    with Session(engine) as session:
        ids = list(
            session.exec(
                select(IssuedCredential.id).where(
                    IssuedCredential.subject_code.is_not(None)  # type: ignore[union-attr]
                )
            )
        )
    engine.dispose()
    return ids


def test_dashboard_shows_dids_and_keys(client, seeded):
    sign_in(client, seeded.admin_email)

    page = client.get(f"{ADMIN}/").get_data(as_text=True)

    assert seeded.issuer_did in page
    assert f"{seeded.issuer_did}#key-1" in page
    assert "Signs new credentials" in page


def test_index_redirects_to_own_organisation(client, seeded):
    sign_in(client, seeded.admin_email)

    response = client.get("/issuer/")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{ADMIN}/")


@pytest.mark.parametrize("who", ["staff_email", "hr_email"])
def test_other_roles_forbidden(client, seeded, who):
    sign_in(client, getattr(seeded, who))

    assert client.get(f"{ADMIN}/").status_code == 403


def test_anonymous_sent_to_sign_in(client, seeded):
    response = client.get(f"{ADMIN}/credentials")

    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_other_organisation_not_found(client, seeded):
    sign_in(client, seeded.admin_email)

    assert client.get("/issuer/colne-estuary/").status_code == 404


def test_rotate_key_from_page(client, seeded):
    sign_in(client, seeded.admin_email)
    token = csrf_token(client, f"{ADMIN}/")

    response = client.post(f"{ADMIN}/keys/rotate", data={"csrf_token": token})
    page = client.get(f"{ADMIN}/").get_data(as_text=True)

    assert response.status_code == 302
    assert f"{seeded.issuer_did}#key-2" in page
    assert "Retired" in page


def test_rotate_key_without_csrf_rejected(client, seeded):
    sign_in(client, seeded.admin_email)

    response = client.post(f"{ADMIN}/keys/rotate", data={})

    assert response.status_code == 400
    assert "#key-2" not in client.get(f"{ADMIN}/").get_data(as_text=True)


def test_compromise_from_page(client, seeded):
    sign_in(client, seeded.admin_email)
    token = csrf_token(client, f"{ADMIN}/")

    client.post(
        f"{ADMIN}/keys/compromise",
        data={
            "csrf_token": token,
            "method_id": f"{seeded.issuer_did}#key-1",
            "since": "2020-01-01T00:00:00Z",
            "reason": "key file found on a shared drive",
        },
    )
    page = client.get(f"{ADMIN}/").get_data(as_text=True)

    assert "Compromised from 2020-01-01" in page
    assert f"{seeded.issuer_did}#key-2" in page


def test_compromise_bad_instant_explained(client, seeded):
    sign_in(client, seeded.admin_email)
    token = csrf_token(client, f"{ADMIN}/")

    response = client.post(
        f"{ADMIN}/keys/compromise",
        data={
            "csrf_token": token,
            "method_id": f"{seeded.issuer_did}#key-1",
            "since": "last Tuesday",
            "reason": "x",
        },
        follow_redirects=True,
    )

    assert "2026-04-01T09:30:00Z" in response.get_data(as_text=True)
    assert "Compromised from" not in response.get_data(as_text=True)


def test_upload_imports_and_reports(client, seeded):
    page = imported(client, seeded, staff=3, bad_every=5)

    assert 'data-state="finished"' in page
    assert '<dd data-count="rows_read">36</dd>' in page
    assert '<dd data-count="rejected">7</dd>' in page
    assert '<dd data-count="waiting">29</dd>' in page
    report_link = re.search(r'href="([^"]+/report\.csv)"', page).group(1)
    report = client.get(report_link)
    assert report.status_code == 200
    assert report.mimetype == "text/csv"
    assert b"line,column,value,reason,kind" in report.data


def test_upload_wrong_file_fails_run(client, seeded):
    sign_in(client, seeded.admin_email)
    response = upload(client, b"name,age\nRobin,4\n", "people.csv")

    page = wait_for_import(client, response.headers["Location"])

    assert 'data-state="failed"' in page
    assert "lacks the columns" in page


def test_upload_without_file_rejected(client, seeded):
    sign_in(client, seeded.admin_email)
    token = csrf_token(client, f"{ADMIN}/imports")

    response = client.post(f"{ADMIN}/imports", data={"csrf_token": token})

    assert response.status_code == 400
    assert "Choose the export file" in response.get_data(as_text=True)


def test_search_and_revoke_with_reason(client, seeded):
    imported(client, seeded)
    target = credential_ids(seeded)[0]

    found = client.get(f"{ADMIN}/credentials", query_string={"q": target})
    token = csrf_token(client, f"{ADMIN}/credentials")
    client.post(
        f"{ADMIN}/credentials/status",
        data={
            "csrf_token": token,
            "credential_id": target,
            "action": "revoke",
            "reason": "completed in error",
        },
    )
    revoked = client.get(f"{ADMIN}/credentials", query_string={"status": "revoked"})

    assert f'data-credential="{target}"' in found.get_data(as_text=True)
    assert f'data-credential="{target}" data-status="revoked"' in revoked.get_data(
        as_text=True
    )


def test_suspend_and_reinstate(client, seeded):
    imported(client, seeded)
    target = credential_ids(seeded)[0]
    for action in ("suspend", "reinstate"):
        token = csrf_token(client, f"{ADMIN}/credentials")
        client.post(
            f"{ADMIN}/credentials/status",
            data={
                "csrf_token": token,
                "credential_id": target,
                "action": action,
                "reason": f"{action} for a test",
            },
        )

    engine = make_engine(seeded.settings.database_url)
    with Session(engine) as session:
        actions = [
            entry.action for entry in recent_entries(session, action="credential.")
        ]
    engine.dispose()
    assert actions[:2] == ["credential.reinstated", "credential.suspended"]


def test_status_change_needs_reason(client, seeded):
    imported(client, seeded)
    target = credential_ids(seeded)[0]
    token = csrf_token(client, f"{ADMIN}/credentials")

    response = client.post(
        f"{ADMIN}/credentials/status",
        data={"csrf_token": token, "credential_id": target, "action": "revoke"},
        follow_redirects=True,
    )

    assert "Give a reason" in response.get_data(as_text=True)
    assert 'data-status="revoked"' not in response.get_data(as_text=True)


def test_audit_page_and_chain_check(client, seeded):
    imported(client, seeded)

    page = client.get(f"{ADMIN}/audit", query_string={"verify": "1"}).get_data(
        as_text=True
    )

    assert "The chain is intact" in page
    assert 'data-action="credential.recorded"' in page


def claim_code(client, seeded, employee="99000001", *, import_first=True) -> str:
    """Create a claim code as the administrator, then sign out."""
    if import_first:
        imported(client, seeded)
    token = csrf_token(client, f"{ADMIN}/claim-codes")
    page = client.post(
        f"{ADMIN}/claim-codes",
        data={"csrf_token": token, "employee_number": employee, "days": "14"},
    ).get_data(as_text=True)
    assert "data:image/png;base64," in page
    code = re.search(r'<code id="code-value">([A-Z0-9-]+)</code>', page).group(1)
    assert f"/claim#{code}" in page
    client.post("/sign-out", data={"csrf_token": csrf_token(client, f"{ADMIN}/")})
    return code


def test_claim_code_for_unknown_employee(client, seeded):
    sign_in(client, seeded.admin_email)
    token = csrf_token(client, f"{ADMIN}/claim-codes")

    response = client.post(
        f"{ADMIN}/claim-codes",
        data={"csrf_token": token, "employee_number": "12345678", "days": "14"},
    )

    assert response.status_code == 400
    assert "no staff record for that employee number" in response.get_data(as_text=True)


def claim_with_new_account(client, code, email="new.starter@nhs-staff.example"):
    """Claim ``code`` through the form, creating an account, as a browser would."""
    return client.post(
        "/claim",
        data={
            "csrf_token": csrf_token(client, "/claim"),
            "code": code,
            "email": email,
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )


def test_claim_creates_account_and_offers(client, seeded):
    code = claim_code(client, seeded)

    response = claim_with_new_account(client, code)
    offers = client.get("/claim/offers").get_data(as_text=True)

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/claim/offers")
    assert offers.count('class="card" data-credential=') == 12
    # Each offer names who issues it, so a new employer's record of the same
    # subject does not look like a duplicate.
    assert offers.count("<dt>Issuer</dt><dd>Chelmer Valley") == 12


def test_claim_code_works_once(client, seeded):
    code = claim_code(client, seeded)
    for attempt in range(2):
        client.post("/sign-out", data={"csrf_token": csrf_token(client, "/claim")})
        response = claim_with_new_account(
            client, code, f"person{attempt}@nhs-staff.example"
        )

    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)


def test_accept_and_decline_offers(client, seeded):
    code = claim_code(client, seeded)
    claim_with_new_account(client, code)
    offers = client.get("/claim/offers").get_data(as_text=True)
    first, second = re.findall(r'data-credential="([^"]+)"', offers)[:2]

    for credential_id, decision in ((first, "accept"), (second, "decline")):
        client.post(
            "/claim/offers",
            data={
                "csrf_token": csrf_token(client, "/claim/offers"),
                "credential_id": credential_id,
                "decision": decision,
            },
        )
    wallet = client.get("/wallet/").get_data(as_text=True)
    remaining = client.get("/claim/offers").get_data(as_text=True)

    assert wallet.count('class="card card--') == 1
    assert first not in remaining
    assert second not in remaining
    assert "10 credentials are waiting" in wallet


def test_signed_in_staff_claims_into_own_wallet(client, seeded):
    code = claim_code(client, seeded)
    sign_in(client, seeded.staff_email)
    token = csrf_token(client, "/claim")

    response = client.post("/claim", data={"csrf_token": token, "code": code})
    offers = client.get("/claim/offers").get_data(as_text=True)

    assert response.status_code == 302
    assert offers.count('class="card" data-credential=') == 12


def test_claim_page_takes_code_from_fragment_script(client, seeded):
    page = client.get("/claim").get_data(as_text=True)

    script = client.get("/claim/static/claim.js")

    assert "claim.js" in page
    assert script.status_code == 200
    assert b"window.location.hash" in script.data


def test_wallet_shows_superseded(client, seeded):
    from datetime import date

    def upload_as_admin(data: bytes) -> None:
        sign_in(client, seeded.admin_email)
        response = upload(client, data)
        wait_for_import(client, response.headers["Location"])

    upload_as_admin(export_bytes(1, subjects=1, as_of=date(2025, 3, 31)))
    code = claim_code(client, seeded, import_first=False)
    sign_in(client, seeded.staff_email)
    client.post(
        "/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code}
    )
    (older,) = re.findall(
        r'data-credential="([^"]+)"', client.get("/claim/offers").get_data(as_text=True)
    )
    client.post(
        "/claim/offers",
        data={
            "csrf_token": csrf_token(client, "/claim/offers"),
            "credential_id": older,
            "decision": "accept",
        },
    )
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/wallet/")})

    # A year later the export has a newer completion of the same subject.
    upload_as_admin(export_bytes(1, subjects=1))
    client.post("/sign-out", data={"csrf_token": csrf_token(client, f"{ADMIN}/")})
    sign_in(client, seeded.staff_email)
    wallet = client.get("/wallet/").get_data(as_text=True)

    assert 'data-issuer-state="superseded"' in wallet
    assert "Superseded by a newer completion" in wallet
    assert 'data-issuer-state="revoked"' not in wallet
    assert "1 credential is waiting" in wallet


def test_huge_run_ids_not_found(client, seeded):
    sign_in(client, seeded.admin_email)
    huge = "9" * 30

    result = client.get(f"{ADMIN}/imports/{huge}")
    report = client.get(f"{ADMIN}/imports/{huge}/report.csv")

    assert result.status_code == 404
    assert report.status_code == 404


@pytest.mark.parametrize(
    "path", ["/audit?before=" + "9" * 30, "/credentials?page=" + "9" * 30]
)
def test_huge_query_numbers_ignored(client, seeded, path):
    sign_in(client, seeded.admin_email)

    response = client.get(ADMIN + path)

    assert response.status_code == 200


def test_claim_failure_log_has_no_email(client, seeded, caplog):
    code = claim_code(client, seeded)
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/claim")})
    caplog.set_level(logging.INFO)

    response = claim_with_new_account(client, code, seeded.staff_email)

    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert "claim failed" in caplog.text
    assert seeded.staff_email not in caplog.text


def test_rejected_upload_log_has_no_row_data(client, seeded, caplog):
    caplog.set_level(logging.INFO)
    sign_in(client, seeded.admin_email)
    headerless = export_bytes(1).split(b"\r\n", 1)[1]
    first_row = headerless.split(b"\r\n", 1)[0].decode("utf-8")
    employee_number = first_row.split(",")[0].strip('"')

    response = upload(client, headerless, "no-header.csv")
    page = wait_for_import(client, response.headers["Location"])

    assert 'data-state="failed"' in page
    assert "uploaded export rejected" in caplog.text
    assert employee_number not in caplog.text


def test_claim_guessing_throttled(client, seeded):
    code = claim_code(client, seeded)
    guesses = [
        claim_with_new_account(client, f"AAAA-AAAA-AAAA-{number:04d}")
        for number in range(CLAIM_FAILURE_LIMIT.limit)
    ]

    blocked = claim_with_new_account(client, code)

    assert all(guess.status_code == 400 for guess in guesses)
    assert blocked.status_code == 429
    assert "Too many failed attempts" in blocked.get_data(as_text=True)
    engine = make_engine(seeded.settings.database_url)
    with Session(engine) as session:
        failures = recent_entries(session, limit=100, action="claim.failed")
        redeemed = recent_entries(session, limit=100, action="claim.redeemed")
    engine.dispose()
    assert len(failures) == CLAIM_FAILURE_LIMIT.limit
    assert redeemed == []


def test_upload_over_request_limit_imports(client, seeded):
    sign_in(client, seeded.admin_email)
    # Blank lines are skipped, so they make the file large without rows.
    data = export_bytes(2) + b"\r\n" * (3 * 1024 * 1024)
    assert len(data) > MAX_REQUEST_BYTES

    response = upload(client, data, "large.csv")
    page = wait_for_import(client, response.headers["Location"])

    assert response.status_code == 302
    assert 'data-state="finished"' in page
    assert '<dd data-count="waiting">24</dd>' in page


def test_large_upload_without_csrf_rejected(client, seeded):
    sign_in(client, seeded.admin_email)
    data = export_bytes(2) + b"\r\n" * (3 * 1024 * 1024)

    response = client.post(
        f"{ADMIN}/imports",
        data={"export": (io.BytesIO(data), "large.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_wallet_shows_revoked_not_shared(client, seeded):
    sign_in(client, seeded.admin_email)
    response = upload(client, export_bytes(1, subjects=2))
    wait_for_import(client, response.headers["Location"])
    code = claim_code(client, seeded, import_first=False)
    sign_in(client, seeded.staff_email)
    client.post(
        "/claim", data={"csrf_token": csrf_token(client, "/claim"), "code": code}
    )
    offered = re.findall(
        r'data-credential="([^"]+)"', client.get("/claim/offers").get_data(as_text=True)
    )
    for credential_id in offered:
        client.post(
            "/claim/offers",
            data={
                "csrf_token": csrf_token(client, "/claim/offers"),
                "credential_id": credential_id,
                "decision": "accept",
            },
        )
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/wallet/")})
    sign_in(client, seeded.admin_email)
    client.post(
        f"{ADMIN}/credentials/status",
        data={
            "csrf_token": csrf_token(client, f"{ADMIN}/credentials"),
            "credential_id": offered[0],
            "action": "revoke",
            "reason": "completed in error",
        },
    )
    client.post("/sign-out", data={"csrf_token": csrf_token(client, f"{ADMIN}/")})
    sign_in(client, seeded.staff_email)

    wallet = client.get("/wallet/").get_data(as_text=True)
    share = client.get("/wallet/share").get_data(as_text=True)

    assert len(offered) == 2
    assert wallet.count('data-status="revoked"') == 1
    assert "Revoked by the issuer" in wallet
    assert "1 revoked or suspended" in wallet
    # The revoked credential is listed for sharing but not ticked.
    (revoked_card,) = re.findall(
        r'data-status="revoked">.*?/wallet/credentials/([^"]+)"', wallet, re.S
    )
    ticked = re.findall(r'<input[^>]*checked[^>]*value="([^"]+)"', share)
    ticked += re.findall(r'<input[^>]*value="([^"]+)"[^>]*checked', share)
    assert f'value="{revoked_card}"' in share
    assert ticked
    assert revoked_card not in ticked
