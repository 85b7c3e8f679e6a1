"""The wallet's sharing pages and the presentation endpoint at the share URL,
through the Flask test client on the seeded platform."""

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import select

from passport.db import make_engine, session_scope
from tests.verifier.hr_flow import make_share_link
from tests.web_support import csrf_token, read_qr_codes, sign_in
from verifier import verify_presentation
from wallet_web.models import WalletCredential
from wallet_web.sharing import create_share
from wallet_web.sharing_models import ShareLink

CHALLENGE = "challenge-from-a-test-0001"
DOMAIN = "https://hr.colne-estuary.example"


@pytest.fixture
def staff(client, seeded):
    sign_in(client, seeded.staff_email)
    return client


def _share_path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:5000")


def _wallet_rows(seeded) -> list[WalletCredential]:
    engine = make_engine(seeded.settings.database_url)
    try:
        with session_scope(engine) as session:
            rows = session.exec(select(WalletCredential)).all()
            session.expunge_all()
            return rows
    finally:
        engine.dispose()


def test_share_page_ticks_valid_credentials(staff, seeded):
    page = staff.get("/wallet/share").get_data(as_text=True)
    ticked = re.findall(r'name="credentials" value="([^"]+)"[^>]*checked', page)
    assert sorted(ticked) == sorted(
        [seeded.staff_credentials["valid"], seeded.staff_credentials["expiring"]]
    )
    assert seeded.staff_credentials["expired"] in page
    assert 'name="csrf_token"' in page


def test_share_link_short_ascii_one_use(client, seeded):
    url = make_share_link(client, seeded.staff_email)

    assert url.isascii()
    assert len(url) < 100
    assert re.fullmatch(r"http://127\.0\.0\.1:5000/s/[A-Za-z0-9_-]{22}", url)


def test_share_qr_decodes_to_url(staff, seeded):
    token = csrf_token(staff, "/wallet/share")
    response = staff.post(
        "/wallet/share",
        data={"csrf_token": token, "credentials": [seeded.staff_credentials["valid"]]},
    )
    page = response.get_data(as_text=True)
    url = re.search(r'id="share-url">([^<]+)<', page).group(1)
    encoded = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    import base64

    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    results = read_qr_codes(image)

    assert [result.text for result in results] == [url]
    assert "Conflict Resolution" in page
    assert "Fire Safety" not in page.split('id="shared-credentials"')[1]


def test_share_without_csrf_rejected(staff, seeded):
    response = staff.post(
        "/wallet/share", data={"credentials": [seeded.staff_credentials["valid"]]}
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_share_of_other_wallets_credential_rejected(staff, seeded):
    token = csrf_token(staff, "/wallet/share")
    response = staff.post(
        "/wallet/share",
        data={"csrf_token": token, "credentials": [seeded.other_staff_credential]},
    )
    assert response.status_code == 400
    assert "share-url" not in response.get_data(as_text=True)


def test_share_with_nothing_chosen_rejected(staff):
    token = csrf_token(staff, "/wallet/share")
    response = staff.post("/wallet/share", data={"csrf_token": token})
    assert response.status_code == 400
    assert "Pick at least one credential" in response.get_data(as_text=True)


def test_sharing_pages_need_staff_role(client, seeded):
    sign_in(client, seeded.hr_email)
    for path in ("/wallet/share", "/wallet/history", "/wallet/export.json"):
        assert client.get(path).status_code == 403, path
    path = f"/wallet/credentials/{seeded.staff_credentials['valid']}/delete"
    assert client.get(path).status_code == 403


def test_sharing_pages_need_sign_in(client):
    response = client.get("/wallet/share")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_presentation_endpoint_answers_once(client, seeded):
    path = _share_path(make_share_link(client, seeded.staff_email))

    first = client.post(
        path, json={"challenge": CHALLENGE, "domain": DOMAIN, "verifier": "Colne"}
    )
    second = client.post(path, json={"challenge": CHALLENGE, "domain": DOMAIN})

    assert first.status_code == 200
    presentation = first.get_json()
    result = verify_presentation(presentation, challenge=CHALLENGE, domain=DOMAIN)
    assert result.check("proof").passed
    assert result.check("holder-binding").passed
    assert len(presentation["verifiableCredential"]) == 2
    assert second.status_code == 410
    assert "already used" in second.get_json()["error"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b"not json", "application/json", 400, "not JSON"),
        (b"[1, 2]", "application/json", 400, "not an object"),
        (
            json.dumps({"challenge": CHALLENGE, "domain": DOMAIN, "x": 1}).encode(),
            "application/json",
            400,
            "Unknown field",
        ),
        (json.dumps({"domain": DOMAIN}).encode(), "application/json", 400, "challenge"),
        (
            json.dumps({"challenge": CHALLENGE}).encode(),
            "application/json",
            400,
            "domain",
        ),
        (
            json.dumps({"challenge": 5, "domain": DOMAIN}).encode(),
            "application/json",
            400,
            "challenge",
        ),
        (
            json.dumps(
                {"challenge": CHALLENGE, "domain": DOMAIN, "verifier": 7}
            ).encode(),
            "application/json",
            400,
            "verifier",
        ),
        (b"challenge=x", "application/x-www-form-urlencoded", 415, "application/json"),
        (b" " * 5000, "application/json", 413, "4096 bytes"),
    ],
)
def test_bad_request_keeps_link(client, seeded, body, content_type, status, words):
    path = _share_path(make_share_link(client, seeded.staff_email))

    response = client.post(path, data=body, content_type=content_type)

    assert response.status_code == status
    assert words in response.get_json()["error"]
    good = client.post(path, json={"challenge": CHALLENGE, "domain": DOMAIN})
    assert good.status_code == 200


def test_unknown_link_is_gone(client):
    response = client.post(
        "/s/AAAAAAAAAAAAAAAAAAAAAA", json={"challenge": CHALLENGE, "domain": DOMAIN}
    )
    assert response.status_code == 410
    assert "not known" in response.get_json()["error"]


def test_expired_link_is_gone(client, seeded):
    engine = make_engine(seeded.settings.database_url)
    try:
        with session_scope(engine) as session:
            wallet_id = session.exec(select(WalletCredential)).first().wallet_id
            new = create_share(
                session,
                wallet_id,
                None,
                now=datetime.now(UTC) - timedelta(minutes=11),
            )
    finally:
        engine.dispose()

    response = client.post(
        f"/s/{new.token}", json={"challenge": CHALLENGE, "domain": DOMAIN}
    )

    assert response.status_code == 410
    assert "expired" in response.get_json()["error"]


def test_opening_link_in_browser_keeps_it(client, seeded):
    path = _share_path(make_share_link(client, seeded.staff_email))

    page = client.get(path)

    assert page.status_code == 200
    assert "share link" in page.get_data(as_text=True)
    used = client.post(path, json={"challenge": CHALLENGE, "domain": DOMAIN})
    assert used.status_code == 200


def test_history_names_verifier(client, seeded):
    path = _share_path(make_share_link(client, seeded.staff_email))
    client.post(
        path,
        json={"challenge": CHALLENGE, "domain": DOMAIN, "verifier": "Colne Estuary"},
    )
    sign_in(client, seeded.staff_email)

    page = client.get("/wallet/history").get_data(as_text=True)

    assert 'data-used="yes"' in page
    assert "Colne Estuary" in page
    assert DOMAIN in page
    assert "Conflict Resolution" in page


def test_history_is_per_wallet(client, seeded):
    make_share_link(client, seeded.staff_email)
    sign_in(client, seeded.other_staff_email)

    page = client.get("/wallet/history").get_data(as_text=True)

    assert "not shared your passport yet" in page


def test_export_all_signed_by_holder(staff, seeded):
    response = staff.get("/wallet/export.json")

    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    exported = json.loads(response.get_data())
    assert len(exported["credentials"]) == 3
    presentation = exported["presentation"]
    result = verify_presentation(
        presentation,
        challenge=presentation["proof"]["challenge"],
        domain="http://127.0.0.1:5000",
    )
    assert result.check("proof").passed
    assert result.check("holder-binding").passed
    assert presentation["verifiableCredential"] == exported["credentials"]


def test_export_one_credential(staff, seeded):
    public_id = seeded.staff_credentials["valid"]

    exported = json.loads(
        staff.get(f"/wallet/credentials/{public_id}/export.json").get_data()
    )

    assert exported["credentials"] == [seeded.documents["valid"]]
    assert len(exported["presentation"]["verifiableCredential"]) == 1


def test_export_of_other_wallets_credential_not_found(staff, seeded):
    path = f"/wallet/credentials/{seeded.other_staff_credential}/export.json"
    assert staff.get(path).status_code == 404


def test_delete_asks_for_confirmation(staff, seeded):
    public_id = seeded.staff_credentials["valid"]
    path = f"/wallet/credentials/{public_id}/delete"

    page = staff.get(path)
    unconfirmed = staff.post(path, data={"csrf_token": csrf_token(staff, path)})

    assert page.status_code == 200
    assert "Delete Conflict Resolution" in page.get_data(as_text=True)
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.get_data(as_text=True)
    assert len(_wallet_rows(seeded)) == 4


def test_delete_without_csrf_rejected(staff, seeded):
    path = f"/wallet/credentials/{seeded.staff_credentials['valid']}/delete"

    response = staff.post(path, data={"confirm": "y"})

    assert response.status_code == 400
    assert len(_wallet_rows(seeded)) == 4


def test_delete_keeps_other_credentials(staff, seeded):
    public_id = seeded.staff_credentials["valid"]
    path = f"/wallet/credentials/{public_id}/delete"

    response = staff.post(
        path, data={"csrf_token": csrf_token(staff, path), "confirm": "y"}
    )

    assert response.status_code == 302
    remaining = {row.public_id for row in _wallet_rows(seeded)}
    assert public_id not in remaining
    assert seeded.staff_credentials["expiring"] in remaining
    assert seeded.staff_credentials["expired"] in remaining
    assert seeded.other_staff_credential in remaining
    assert "was deleted" in staff.get("/wallet/").get_data(as_text=True)
    assert staff.get(f"/wallet/credentials/{public_id}").status_code == 404


def test_delete_of_other_wallets_credential_not_found(staff, seeded):
    path = f"/wallet/credentials/{seeded.other_staff_credential}/delete"
    assert staff.get(path).status_code == 404
    assert seeded.other_staff_credential in {r.public_id for r in _wallet_rows(seeded)}


def test_share_links_store_only_hashes(client, seeded):
    url = make_share_link(client, seeded.staff_email)
    token = url.rsplit("/", 1)[1]
    engine = make_engine(seeded.settings.database_url)
    try:
        with session_scope(engine) as session:
            stored = [row.token_hash for row in session.exec(select(ShareLink)).all()]
    finally:
        engine.dispose()
    assert stored
    assert token not in stored
