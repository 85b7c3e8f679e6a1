"""A ward nurse records a Waterlow score on a tablet in a real Chromium."""

import re
from pathlib import Path

import pytest

from tests.browser.test_walkthrough import (  # noqa: F401 - fixtures
    _sign_in,
    artefacts,
    browser,
    server,
)
from tests.web_support import SeededPlatform
from tests.workflows.test_views import SUBJECT, WATERLOW, care  # noqa: F401

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}


def test_nurse_records_score_on_tablet(  # noqa: F811 - the fixtures above
    server: str,  # noqa: F811
    browser,  # noqa: F811
    seeded: SeededPlatform,
    care,  # noqa: F811
    artefacts: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    tablet = browser.new_context(viewport=TABLET, has_touch=True)
    page = tablet.new_page()
    _sign_in(page, server, seeded.staff_email)
    page.get_by_role("link", name="Care tasks").click()

    overdue = page.locator("li.care-task--overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("Pressure ulcer risk assessment (Waterlow)")
    expect(overdue).to_contain_text(SUBJECT)
    page.screenshot(path=artefacts / "1-care-tasks-tablet.png", full_page=True)

    overdue.get_by_role(
        "link", name="Pressure ulcer risk assessment (Waterlow)"
    ).click()
    for field, value in WATERLOW.items():
        control = page.locator(f"#field-{field}")
        if isinstance(value, bool):
            control.select_option("yes" if value else "no")
        else:
            control.fill(str(value))
    page.locator("#field-mobility").fill("9")
    page.get_by_role("button", name="Record as done").click()
    expect(page.locator(".care-errors")).to_contain_text(
        "field 'mobility': 9 is outside the range 0 to 5"
    )
    page.screenshot(path=artefacts / "2-score-refused.png", full_page=True)

    page.locator("#field-mobility").fill("3")
    page.get_by_role("button", name="Record as done").click()
    expect(page.locator(".messages")).to_contain_text(
        "Recorded: Pressure ulcer risk assessment"
    )
    expect(page.locator("li.care-task").first).to_contain_text("Skin inspection")

    page.goto(f"{server}/care/protocols/pressure-ulcer-prevention")
    expect(page.locator("svg.protocol-diagram")).to_be_visible()
    page.screenshot(path=artefacts / "3-protocol-diagram.png", full_page=True)
    page.goto(f"{server}/care/patients/{SUBJECT}")
    expect(page.locator("table.care-timeline")).to_contain_text(
        re.compile("task.completed")
    )
    page.goto(f"{server}/care/wards/chelmer-valley/ward-7")
    expect(page.locator("svg.chart")).to_have_count(4)
    page.screenshot(path=artefacts / "4-ward-metrics.png", full_page=True)
    tablet.close()
