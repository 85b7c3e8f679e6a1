import re

import pytest
from flask import Blueprint, jsonify

from accounts.auth import current_account, require_role
from accounts.roles import Role
from passport.app import create_app
from tests.web_support import PASSWORD, csrf_token, sign_in


def test_sign_in_page_renders(client):
    response = client.get("/sign-in")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'autocomplete="current-password"' in page
    assert '<html lang="en-GB">' in page


def test_home_redirects_anonymous_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in")


def test_sign_in_without_csrf_rejected(client, seeded):
    response = client.post(
        "/sign-in", data={"email": seeded.staff_email, "password": PASSWORD}
    )
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)
    assert client.get("/wallet/").status_code == 302


def test_sign_in_with_wrong_token_rejected(client, seeded):
    client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "csrf_token": "forged",
            "email": seeded.staff_email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400


def test_staff_sign_in_lands_on_wallet(client, seeded):
    response = sign_in(client, seeded.staff_email)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.headers["Location"].endswith("/wallet/")


def test_hr_sign_in_lands_on_verify(client, seeded):
    sign_in(client, seeded.hr_email)
    assert client.get("/").headers["Location"].endswith("/hr/verify")


def test_issuer_admin_lands_on_admin_pages(client, seeded):
    sign_in(client, seeded.admin_email)
    assert client.get("/").headers["Location"].endswith("/issuer/")


def test_sign_in_any_email_case(client, seeded):
    response = sign_in(client, seeded.staff_email.upper())
    assert response.status_code == 302


def test_wrong_password_is_401(client, seeded):
    response = sign_in(client, seeded.staff_email, "not the password")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "The email address or password is wrong." in page
    assert 'role="alert"' in page


def test_empty_fields_are_400(client):
    token = csrf_token(client, "/sign-in")
    response = client.post("/sign-in", data={"csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter your email address." in page
    assert "Enter your password." in page


def test_sixth_failure_is_throttled(client, seeded):
    for _ in range(5):
        assert sign_in(client, seeded.staff_email, "guess").status_code == 401
    response = sign_in(client, seeded.staff_email, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.get_data(as_text=True)


def test_next_path_followed(client, seeded):
    token = csrf_token(client, "/sign-in?next=/wallet/")
    response = client.post(
        "/sign-in?next=/wallet/",
        data={"csrf_token": token, "email": seeded.staff_email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/wallet/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:x",
        "/wallet/\r\nSet-Cookie: a=b",
        "/\x00//evil",
        "/\x7f",
    ],
)
def test_next_offsite_ignored(client, seeded, target):
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        query_string={"next": target},
        data={"csrf_token": token, "email": seeded.staff_email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_protected_page_sends_to_sign_in_with_next(client):
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/wallet/"


def test_session_cookie_flags(client, seeded):
    response = sign_in(client, seeded.staff_email)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("passport=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_https_cookie_is_secure_host_cookie(seeded):
    settings = seeded.settings.__class__(
        **{**seeded.settings.__dict__, "public_url": "https://passport.example"}
    )
    app = create_app({"SETTINGS": settings, "TESTING": True})
    client = app.test_client()
    response = sign_in(client, seeded.staff_email)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-passport=")
    assert "Secure" in cookie
    assert "Domain" not in cookie


def test_sign_out_without_csrf_rejected(client, seeded):
    sign_in(client, seeded.staff_email)
    response = client.post("/sign-out")
    assert response.status_code == 400
    assert client.get("/wallet/").status_code == 200


def test_sign_out_ends_session(client, seeded):
    sign_in(client, seeded.staff_email)
    stolen = client.get_cookie("passport").value
    token = csrf_token(client, "/wallet/")
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in")
    assert client.get("/wallet/").status_code == 302
    # A copy of the old cookie no longer signs anyone in: the session
    # ended on the server.
    client.set_cookie("passport", stolen)
    assert client.get("/wallet/").status_code == 302


def test_sign_out_button_on_pages(client, seeded):
    sign_in(client, seeded.staff_email)
    page = client.get("/wallet/").get_data(as_text=True)
    assert re.search(r'action="/sign-out"', page)


def test_signed_in_get_sign_in_redirects(client, seeded):
    sign_in(client, seeded.staff_email)
    assert client.get("/sign-in").status_code == 302


# --- require_role on views of other packages ---------------------------------

probe = Blueprint("probe", __name__)


@probe.get("/probe/hr-page")
@require_role(Role.HR)
def hr_page():
    account = current_account()
    return f"hello {account.id}"


@probe.get("/probe/any-page")
@require_role()
def any_page():
    return "signed in"


@probe.get("/probe/api")
@require_role(Role.HR)
def hr_api():
    return jsonify(ok=True)


@pytest.fixture
def probe_client(seeded):
    app = create_app({"SETTINGS": seeded.settings, "TESTING": True})
    app.register_blueprint(probe)
    return app.test_client()


def test_require_role_anonymous_page_redirects(probe_client):
    response = probe_client.get("/probe/hr-page")
    assert response.status_code == 302
    assert response.headers["Location"] == "/sign-in?next=/probe/hr-page"


def test_require_role_anonymous_api_401_json(probe_client):
    response = probe_client.get("/probe/api", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.json["error"] == "unauthenticated"


def test_require_role_wrong_role_403(probe_client, seeded):
    sign_in(probe_client, seeded.staff_email)
    response = probe_client.get("/probe/hr-page")
    assert response.status_code == 403
    assert "does not have a role" in response.get_data(as_text=True)


def test_require_role_wrong_role_api_403_json(probe_client, seeded):
    sign_in(probe_client, seeded.staff_email)
    response = probe_client.get("/probe/api", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


def test_require_role_right_role(probe_client, seeded):
    sign_in(probe_client, seeded.hr_email)
    response = probe_client.get("/probe/hr-page")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("hello ")


def test_require_no_role_any_account(probe_client, seeded):
    assert probe_client.get("/probe/any-page").status_code == 302
    sign_in(probe_client, seeded.admin_email)
    assert probe_client.get("/probe/any-page").status_code == 200


def test_signed_in_next_with_newline_ignored(client, seeded):
    sign_in(client, seeded.staff_email, PASSWORD)

    response = client.get("/sign-in", query_string={"next": "/wallet/\r\nX: y"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
