import copy
import json

import pytest

from credentials.qr_payload import encode_credential
from tests.web_support import csrf_token, sign_in
from wallet_web.qr import credential_qr


@pytest.fixture
def hr(client, seeded):
    sign_in(client, seeded.hr_email)
    return client


def _post(client, **fields):
    token = csrf_token(client, "/hr/verify")
    return client.post(
        "/hr/verify",
        data={"csrf_token": token, **fields},
        content_type="multipart/form-data",
    )


def _outcomes(page):
    import re

    return dict(re.findall(r'data-check="([a-z-]+)" data-outcome="([a-z]+)"', page))


def test_form_renders(hr):
    response = hr.get("/hr/verify")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'name="csrf_token"' in page


def test_anonymous_sent_to_sign_in(client):
    response = client.get("/hr/verify")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_staff_forbidden(client, seeded):
    sign_in(client, seeded.staff_email)
    assert client.get("/hr/verify").status_code == 403
    assert client.post("/hr/verify", data={}).status_code in (400, 403)


def test_post_without_csrf_rejected(hr, seeded):
    payload = encode_credential(seeded.documents["valid"])
    response = hr.post("/hr/verify", data={"payload": payload})
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


def test_pasted_payload_verified(hr, seeded):
    payload = encode_credential(seeded.documents["valid"])
    response = _post(hr, payload=payload)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ">Verified<" in page
    assert set(_outcomes(page).values()) == {"pass"}
    assert "Read from: QR payload." in page
    assert "<dt>Name</dt><dd>Chloé STUB</dd>" in page
    assert "<dt>Subject</dt><dd>Conflict Resolution</dd>" in page
    assert "Issued by Chelmer Valley Hospitals NHS Foundation Trust" in page


def test_pasted_json_verified(hr, seeded):
    response = _post(hr, payload=json.dumps(seeded.documents["valid"], indent=2))
    page = response.get_data(as_text=True)
    assert "Read from: credential JSON." in page
    assert set(_outcomes(page).values()) == {"pass"}


def test_uploaded_qr_image_verified(hr, seeded):
    import io

    png = credential_qr(seeded.documents["valid"]).png
    response = _post(hr, image=(io.BytesIO(png), "qr.png"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Read from: QR code image." in page
    assert set(_outcomes(page).values()) == {"pass"}


def test_expired_credential_fails_validity(hr, seeded):
    response = _post(hr, payload=encode_credential(seeded.documents["expired"]))
    page = response.get_data(as_text=True)
    outcomes = _outcomes(page)
    assert outcomes["validity-period"] == "fail"
    assert outcomes["proof"] == "pass"
    assert ">Not verified<" in page
    assert "These claims are not verified." in page
    # Dates and periods are written in words, with the signed text beside
    # a check's date.
    valid_until = seeded.documents["expired"]["validUntil"]
    assert f"({valid_until})" in page
    assert "Expired: valid until " in page
    assert "P1Y" not in page
    assert ">1 year<" in page


def test_tampered_credential_fails_proof(hr, seeded):
    document = copy.deepcopy(seeded.documents["valid"])
    document["credentialSubject"]["level"] = "3"
    page = _post(hr, payload=encode_credential(document)).get_data(as_text=True)
    assert _outcomes(page)["proof"] == "fail"
    assert "<dt>Level</dt><dd>3</dd>" in page


def test_unknown_issuer_is_warning(hr, seeded):
    from credentials.proofs import add_proof
    from keys.multikey import Ed25519KeyPair

    stranger = Ed25519KeyPair.generate()
    document = copy.deepcopy(seeded.documents["valid"])
    del document["proof"]
    document["issuer"]["id"] = stranger.did
    signed = add_proof(document, signer=stranger, cryptosuite="eddsa-rdfc-2022")
    page = _post(hr, payload=encode_credential(signed)).get_data(as_text=True)
    outcomes = _outcomes(page)
    # An issuer outside the registry is neither known nor allowed to issue;
    # both are warnings, because the passport report decides acceptance.
    assert outcomes["issuer-known"] == "warn"
    assert outcomes["issuer-allowed"] == "warn"
    assert ">Verified<" in page
    assert "2 warnings to weigh" in page


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "Nothing was sent"),
        ("SP1:NOT*BASE45~", "QR payload is unreadable"),
        ("SP9:ABC", "version"),
        ("{not json", "not valid JSON"),
        ("hello", "Expected the SP1: text from a wallet QR code"),
        ("[1, 2]", "Credential format"),
    ],
)
def test_bad_text_explained(hr, payload, message):
    response = _post(hr, payload=payload)
    page = response.get_data(as_text=True)
    assert message in page
    assert response.status_code in (200, 400)


def test_presentation_rejected(hr):
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
    }
    response = _post(hr, payload=json.dumps(presentation))
    assert response.status_code == 400
    assert "This is a presentation" in response.get_data(as_text=True)


def test_non_image_upload_explained(hr):
    import io

    response = _post(hr, image=(io.BytesIO(b"plain text"), "qr.png"))
    assert response.status_code == 400
    assert "not an image this page can read" in response.get_data(as_text=True)


def test_oversized_upload_is_413_page(hr):
    import io

    token = csrf_token(hr, "/hr/verify")
    big = io.BytesIO(b"\x00" * (2 * 1024 * 1024 + 10))
    response = hr.post(
        "/hr/verify",
        data={"csrf_token": token, "image": (big, "big.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_verification_logged_without_claims(hr, seeded, caplog):
    import logging

    caplog.set_level(logging.INFO)
    _post(hr, payload=encode_credential(seeded.documents["valid"]))
    assert "hr verification" in caplog.text
    assert "Chloé" not in caplog.text
    assert "Conflict" not in caplog.text
