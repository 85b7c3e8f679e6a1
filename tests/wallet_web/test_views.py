import io
import json
import re

import zxingcpp
from PIL import Image

from tests.web_support import ISSUER_NAME, read_qr_codes, sign_in
from verifier import verify_credential


def _wallet_page(client, seeded):
    sign_in(client, seeded.staff_email)
    response = client.get("/wallet/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_wallet_lists_credentials_with_badges(client, seeded):
    page = _wallet_page(client, seeded)
    statuses = re.findall(r'data-status="([a-z-]+)"', page)
    assert sorted(statuses) == ["expired", "expiring", "valid"]
    assert "Expiring soon" in page
    assert ">Expired<" in page
    assert ">Valid<" in page


def test_wallet_shows_subject_level_issuer_dates(client, seeded):
    page = _wallet_page(client, seeded)
    assert "Conflict Resolution" in page
    assert "Fire Safety" in page
    assert "Information Governance and Data Security" in page
    assert ISSUER_NAME in page
    completed = seeded.documents["valid"]["credentialSubject"]["completionDate"]
    year, month, day = (int(part) for part in completed.split("-"))
    assert f"{day} " in page
    assert str(year) in page
    assert "<dt>Level</dt><dd>1</dd>" in page


def test_wallet_hides_other_holders_credentials(client, seeded):
    page = _wallet_page(client, seeded)
    assert seeded.other_staff_credential not in page
    assert "Taylor" not in page


def test_wallet_urls_carry_only_opaque_ids(client, seeded):
    page = _wallet_page(client, seeded)
    links = re.findall(r'href="(/wallet/[^"]*)"', page)
    assert links
    for link in links:
        assert "urn" not in link
        assert "did" not in link
        assert "chloe" not in link.lower()
        assert "@" not in link


def test_wallet_needs_sign_in(client):
    response = client.get("/wallet/")
    assert response.status_code == 302


def test_wallet_forbidden_for_hr(client, seeded):
    sign_in(client, seeded.hr_email)
    assert client.get("/wallet/").status_code == 403
    credential = seeded.staff_credentials["valid"]
    assert client.get(f"/wallet/credentials/{credential}").status_code == 403


def test_credential_detail_page(client, seeded):
    sign_in(client, seeded.staff_email)
    credential = seeded.staff_credentials["expiring"]
    response = client.get(f"/wallet/credentials/{credential}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Fire Safety</h1>" in page
    assert "Expiring soon" in page
    assert "days left" in page
    assert 'src="data:image/png;base64,' in page
    assert re.search(r"QR version \d+", page)
    assert seeded.documents["expiring"]["validUntil"] in page


def test_credential_page_shows_qr_text(client, seeded):
    from html import unescape

    from credentials.qr_payload import decode_credential

    sign_in(client, seeded.staff_email)
    credential = seeded.staff_credentials["valid"]
    page = client.get(f"/wallet/credentials/{credential}").get_data(as_text=True)

    match = re.search(r'<textarea id="qr-text"[^>]*>([^<]*)</textarea>', page)
    assert match is not None
    text = unescape(match.group(1))
    assert text.startswith("SP1:")
    assert decode_credential(text) == seeded.documents["valid"]


def test_other_holders_credential_is_404(client, seeded):
    sign_in(client, seeded.staff_email)
    other = seeded.other_staff_credential
    assert client.get(f"/wallet/credentials/{other}").status_code == 404
    assert client.get(f"/wallet/credentials/{other}/qr.png").status_code == 404
    assert client.get(f"/wallet/credentials/{other}/credential.json").status_code == 404


def test_unknown_credential_is_404(client, seeded):
    sign_in(client, seeded.staff_email)
    assert client.get("/wallet/credentials/no-such-id").status_code == 404


def test_credential_file_is_signed_text(client, seeded):
    sign_in(client, seeded.staff_email)
    credential = seeded.staff_credentials["valid"]
    response = client.get(f"/wallet/credentials/{credential}/credential.json")
    assert response.status_code == 200
    assert response.mimetype == "application/vc+ld+json"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="credential-{credential}.json"'
    assert json.loads(response.get_data()) == seeded.documents["valid"]


def test_qr_png_reads_back_and_verifies(client, seeded):
    sign_in(client, seeded.staff_email)
    credential = seeded.staff_credentials["valid"]
    response = client.get(f"/wallet/credentials/{credential}/qr.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"

    image = Image.open(io.BytesIO(response.get_data()))
    results = read_qr_codes(image)
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    assert results[0].ec_level == "M"
    text = results[0].text
    assert text.startswith("SP1:")

    from credentials.qr_payload import decode_credential
    from passport.verification import platform_sources

    decoded = decode_credential(text)
    assert decoded == seeded.documents["valid"]
    # The issuer is a did:web of this platform, resolved from its database.
    with platform_sources(seeded.settings.database_url) as sources:
        result = verify_credential(decoded, **sources)
    assert result.check("proof").passed
    assert result.verified


def test_pages_carry_security_headers(client, seeded):
    sign_in(client, seeded.staff_email)
    response = client.get("/wallet/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_layout_shows_role_navigation(client, seeded):
    page = _wallet_page(client, seeded)
    assert 'aria-label="Main"' in page
    assert 'href="/wallet/" aria-current="page"' in page
    assert "Verify a credential" not in page
    assert 'href="#content"' in page
    assert 'media="print"' in page


def test_static_css_served_without_no_store(client):
    response = client.get("/static/passport.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_unknown_page_is_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is no page at this address" in response.get_data(as_text=True)


def test_staff_without_wallet_sees_message(client, seeded):
    from accounts.roles import Role
    from accounts.service import find_account, grant_role
    from passport.db import make_engine, session_scope

    engine = make_engine(seeded.settings.database_url)
    with session_scope(engine) as session:
        admin = find_account(session, seeded.admin_email)
        grant_role(session, admin.id, Role.STAFF)
    engine.dispose()
    sign_in(client, seeded.admin_email)
    page = client.get("/wallet/").get_data(as_text=True)
    assert "No wallet is linked to your account yet." in page
