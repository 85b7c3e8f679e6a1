"""Steps of the sharing flow that the page tests share: a staff member makes
a share link through the wallet page, and HR receives it through theirs."""

import re

from flask.testing import FlaskClient

from tests.web_support import csrf_token, sign_in

_SHARE_URL = re.compile(r'id="share-url">([^<]+)<')


def make_share_link(
    client: FlaskClient, email: str, public_ids: list[str] | None = None
) -> str:
    """Sign ``email`` in, share ``public_ids`` (default: the page's ticked
    ones), sign out, and return the share URL shown."""
    sign_in(client, email)
    token = csrf_token(client, "/wallet/share")
    data: dict[str, object] = {"csrf_token": token}
    if public_ids is None:
        page = client.get("/wallet/share").get_data(as_text=True)
        public_ids = re.findall(r'name="credentials" value="([^"]+)"[^>]*checked', page)
    data["credentials"] = public_ids
    response = client.post("/wallet/share", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    match = _SHARE_URL.search(response.get_data(as_text=True))
    assert match is not None
    sign_out(client)
    return match.group(1)


def sign_out(client: FlaskClient) -> None:
    """Sign out through the layout's form."""
    token = csrf_token(client, "/wallet/")
    client.post("/sign-out", data={"csrf_token": token})


def receive(client: FlaskClient, scanned: str) -> object:
    """Post ``scanned`` to HR's receive page as a handheld scanner would."""
    token = csrf_token(client, "/hr/passports/receive")
    return client.post(
        "/hr/passports/receive",
        data={"csrf_token": token, "scanned": scanned},
        content_type="multipart/form-data",
    )
