"""Sharing a passport in a real Chromium: the staff member shares, HR's page
scans the QR code from a fake camera, and the passport report appears.

Chromium's fake capture device plays a YUV4MPEG2 video, which the test
writes from the share page's QR code. Each 640x480 frame uses 4:2:0 chroma
subsampling, with the QR code's grey levels as the luma plane and both
chroma planes at 128 (no colour). Screenshots go to
the artefacts folder of ``tests/browser/test_walkthrough.py``.
"""

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.test_walkthrough import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    _sign_in,
    artefacts,
    browser,
    server,
)
from tests.web_support import SeededPlatform

pytestmark = pytest.mark.browser

FRAME_SIZE = (640, 480)
# Chromium loops the file; a few frames keep it small.
FRAME_COUNT = 5


def write_y4m(qr_png: bytes, path: Path) -> None:
    """Write a grey YUV4MPEG2 video showing the QR code on a white frame."""
    qr = Image.open(io.BytesIO(qr_png)).convert("L")
    frame = Image.new("L", FRAME_SIZE, 255)
    frame.paste(qr, ((FRAME_SIZE[0] - qr.width) // 2, (FRAME_SIZE[1] - qr.height) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * ((FRAME_SIZE[0] // 2) * (FRAME_SIZE[1] // 2))
    header = f"YUV4MPEG2 W{FRAME_SIZE[0]} H{FRAME_SIZE[1]} F10:1 Ip A1:1 C420\n"
    with path.open("wb") as video:
        video.write(header.encode("ascii"))
        for _ in range(FRAME_COUNT):
            video.write(b"FRAME\n" + luma + chroma + chroma)


def test_staff_shares_and_hr_scans_with_camera(  # noqa: F811 - the fixtures above
    server: str,  # noqa: F811
    browser,  # noqa: F811
    seeded: SeededPlatform,
    artefacts: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    # The staff member shares the valid and expiring credentials (the default).
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    _sign_in(page, server, seeded.staff_email)
    page.get_by_role("link", name="Share passport").first.click()
    expect(page.get_by_role("heading", name="Share my passport")).to_be_visible()
    expect(page.get_by_label("Conflict Resolution")).to_be_checked()
    expect(page.get_by_label("Fire Safety")).to_be_checked()
    expect(page.get_by_label("Information Governance")).not_to_be_checked()
    page.screenshot(path=artefacts / "1-share-picker-phone.png", full_page=True)
    page.get_by_role("button", name="Make a share link").click()
    expect(page.get_by_role("heading", name="Show this code to HR")).to_be_visible()
    share_url = page.locator("#share-url").inner_text()
    assert share_url.startswith(f"{server}/s/")
    assert len(share_url) < 100
    qr_src = page.get_by_role("img", name=re.compile("one-time link")).get_attribute(
        "src"
    )
    qr_png = base64.b64decode(qr_src.split(",", 1)[1])
    page.screenshot(path=artefacts / "2-share-qr-phone.png", full_page=True)
    phone.close()

    video = tmp_path / "share-qr.y4m"
    write_y4m(qr_png, video)
    camera_args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium, from the same Playwright driver, with the camera.
    camera_browser = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=camera_args
    )
    try:
        desk = camera_browser.new_context(viewport={"width": 1280, "height": 900})
        page = desk.new_page()
        _sign_in(page, server, seeded.hr_email)
        page.get_by_role("link", name="Receive a passport").click()
        page.get_by_role("button", name="Start camera").click()
        # The page posts camera snapshots until one decodes, then sends
        # the form; the report page follows.
        expect(page.locator("#verdict h2")).to_have_text(
            "Presentation verified", timeout=30_000
        )
        page.get_by_label("Role profile").select_option(
            label="Healthcare assistant, adult ward"
        )
        page.get_by_role("button", name="Show").click()
        rows = page.locator("#report tbody tr")
        outcomes = dict(
            rows.evaluate_all(
                "rows => rows.map(r => [r.dataset.subject, r.dataset.outcome])"
            )
        )
        assert outcomes["CR"] == "accepted"
        assert outcomes["FS"] == "expiring-30"
        assert outcomes["IGDS"] == "missing"
        assert outcomes["MH2"] == "missing"
        checks = page.locator("#presentation-checks li").evaluate_all(
            "rows => rows.map(r => r.dataset.outcome)"
        )
        assert checks and set(checks) == {"pass"}
        expect(page.locator('#report tr[data-subject="CR"]')).to_contain_text(
            "Chelmer Valley Hospitals NHS Foundation Trust"
        )
        page.screenshot(path=artefacts / "3-hr-passport-report.png", full_page=True)
        page.emulate_media(media="print")
        expect(page.locator(".profile-picker")).to_be_hidden()
        # The printout keeps every subject row but none of the controls.
        expect(page.locator('#report tr[data-subject="CR"]')).to_be_visible()
        expect(page.locator('#report tr[data-subject="MH2"]')).to_be_visible()
        expect(page.locator("#report select").first).to_be_hidden()
        expect(page.locator("#issue-form")).to_be_hidden()
        page.screenshot(path=artefacts / "4-hr-report-print.png", full_page=True)
        page.emulate_media(media="screen")

        # The same link a second time is refused with the reason.
        page.goto(f"{server}/hr/passports/receive")
        page.get_by_label("Share link or QR code text").fill(share_url)
        page.get_by_label("Share link or QR code text").press("Enter")
        expect(page.locator("#receive-error")).to_contain_text("already used")
        page.screenshot(path=artefacts / "5-hr-link-used.png", full_page=True)
        desk.close()
    finally:
        camera_browser.close()
