"""The staff and HR journeys in a real Chromium against a real server.

The test starts ``passport serve`` on a free port over the seeded database,
signs a staff member in on a phone-sized screen, opens a credential's QR
code, then signs HR in, uploads that QR image and reads the report.
Screenshots go to ``$PASSPORT_TEST_ARTEFACTS`` (default: the system temp
folder's ``staff-passport-artefacts``).
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web_support import PASSWORD, SeededPlatform
from verifier.pipeline import CREDENTIAL_CHECKS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Long enough for gunicorn to import the app on a slow CI machine; the wait
# ends as soon as the port accepts connections.
SERVER_START_LIMIT_SECONDS = 60
PHONE = {"width": 390, "height": 844}
# The console script installed beside this Python, as a user would run it.
PASSPORT_COMMAND = Path(sys.executable).parent / "passport"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + SERVER_START_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"passport serve exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"passport serve did not listen on port {port}")


@pytest.fixture
def artefacts(request: pytest.FixtureRequest) -> Path:
    root = os.environ.get("PASSPORT_TEST_ARTEFACTS") or (
        Path(tempfile.gettempdir()) / "staff-passport-artefacts"
    )
    folder = Path(root) / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server(seeded: SeededPlatform, tmp_path: Path) -> Iterator[str]:
    """The base URL of ``passport serve`` running on the seeded database."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed; .ci/run installs it")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = seeded.settings
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "PASSPORT_DATA_DIR": str(settings.data_dir),
        "PASSPORT_KEY_PASSPHRASE": settings.key_passphrase,
        "PASSPORT_SECRET_KEY": settings.secret_key,
        "PASSPORT_PUBLIC_URL": base_url,
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(PASSPORT_COMMAND),
                "serve",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        _wait_for_port(port, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log_path.read_text()
    assert f"Sign in: {base_url}/sign-in" in output
    assert f"{base_url}/wallet/" in output
    assert " 500 " not in output


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _sign_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_staff_shows_qr_and_hr_verifies_it(
    server: str, browser, seeded: SeededPlatform, artefacts: Path
) -> None:
    from playwright.sync_api import expect

    # A staff member on a phone sees the wallet with a badge per credential.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    _sign_in(page, server, seeded.staff_email)
    expect(page).to_have_url(f"{server}/wallet/")
    expect(page.get_by_role("heading", name="My training passport")).to_be_visible()
    cards = page.locator("li.card")
    expect(cards).to_have_count(3)
    for status, label in (
        ("valid", "Valid"),
        ("expiring", "Expiring soon"),
        ("expired", "Expired"),
    ):
        badge = page.locator(f'li.card[data-status="{status}"] .badge')
        expect(badge).to_have_text(label)
    # Nothing is wider than the phone's screen.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]
    page.screenshot(path=artefacts / "1-wallet-phone.png", full_page=True)

    # Opening a credential shows its QR code.
    page.get_by_role("link", name="Show QR code for Conflict Resolution").click()
    expect(page.get_by_role("heading", name="Conflict Resolution")).to_be_visible()
    qr_image = page.get_by_role("img", name=re.compile("QR code of this credential"))
    expect(qr_image).to_be_visible()
    box = qr_image.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.screenshot(path=artefacts / "2-credential-qr-phone.png", full_page=True)
    qr_link = page.get_by_role("link", name="Open the QR code on its own")
    qr_png = page.request.get(server + qr_link.get_attribute("href"))
    assert qr_png.ok
    qr_path = artefacts / "credential-qr.png"
    qr_path.write_bytes(qr_png.body())
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    phone.close()

    # HR uploads the QR image and sees every check pass.
    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    _sign_in(page, server, seeded.hr_email)
    expect(page).to_have_url(f"{server}/hr/verify")
    page.get_by_label("Or upload a picture of the QR code").set_input_files(
        str(qr_path)
    )
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict h2")).to_have_text("Verified")
    checks = page.locator("li.check")
    expect(checks).to_have_count(len(CREDENTIAL_CHECKS))
    outcomes = checks.evaluate_all("rows => rows.map(r => r.dataset.outcome)")
    assert outcomes == ["pass"] * len(CREDENTIAL_CHECKS)
    expect(page.locator("#claims")).to_contain_text("Chloé STUB")
    expect(page.locator("#claims")).to_contain_text("Conflict Resolution")
    page.screenshot(path=artefacts / "3-hr-report.png", full_page=True)
    desk.close()
