"""Schedules in real Chromium: add one from the page, see it listed, pause it in place
(htmx), remove it; axe-core on every state of the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from syncbucket.domain.roles import Role
from tests.browser.conftest import Visit
from tests.browser.support import assert_accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

NAME = "browser nightly LDC"


def test_an_operator_adds_a_schedule_pauses_it_and_removes_it(visit: Visit) -> None:
    page, site = visit.page, visit.site
    visit.sign_in(Role.OPERATOR)
    page.get_by_role("link", name="Schedules").click()
    expect(page.get_by_role("heading", name="Schedules", level=1)).to_be_visible()
    assert_accessible(page, "schedules page")

    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("When (cron expression)").fill("0 2 * * *")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Kolkata")
    page.get_by_role("radio", name="The active clients matching this Client Master filter").check()
    page.get_by_label("Failed last time").check()
    page.get_by_role("checkbox", name="All modules (also any added later)").uncheck()
    page.get_by_role("checkbox", name="Verify LDC").check()
    page.get_by_role("button", name="Add schedule").click()

    expect(page.get_by_role("status")).to_contain_text(f"Schedule “{NAME}” added: first sync")
    row = page.get_by_role("row").filter(has_text=NAME)
    expect(row).to_contain_text("0 2 * * * (Asia/Kolkata)")
    expect(row).to_contain_text("active clients matching: failed last time")
    expect(row).to_contain_text("Verify LDC")
    expect(row).to_contain_text("02:00 IST")
    expect(row).to_contain_text("not fired yet")
    shot(page, "schedules")
    assert_accessible(page, "schedules page with a schedule")
    with site.api() as api:
        (made,) = [s for s in api.get("/schedules").json()["schedules"] if s["name"] == NAME]
    assert made["active"] is True and made["modules"] == ["verify_ldc"]
    assert made["clients"] == {"filter": {"failed_last_time": True}}

    page.get_by_role("button", name=f"Pause {NAME}").click()
    expect(page.get_by_role("status")).to_have_text(f"Schedule “{NAME}” paused.")
    expect(page.get_by_role("button", name=f"Resume {NAME}")).to_be_visible()
    expect(row).to_contain_text("paused")
    assert page.url.endswith("/schedules")  # swapped in place: no navigation
    with site.api() as api:
        assert api.get(f"/schedules/{made['id']}").json()["active"] is False
    assert_accessible(page, "schedules page, paused")

    page.get_by_text(f"Remove {NAME}…").click()
    page.get_by_role("button", name=f"Yes, remove {NAME}").click()
    expect(page.get_by_role("status")).to_have_text(f"Schedule “{NAME}” removed.")
    expect(page.get_by_role("row").filter(has_text=NAME)).to_have_count(0)
    with site.api() as api:
        assert api.get(f"/schedules/{made['id']}").status_code == 404


def test_a_refused_schedule_says_why_next_to_the_field(visit: Visit) -> None:
    page = visit.page
    visit.sign_in(Role.OPERATOR)
    visit.go("/schedules")
    page.get_by_label("Name", exact=True).fill("bad cron")
    page.get_by_label("When (cron expression)").fill("every night")
    page.get_by_role("button", name="Add schedule").click()
    expect(page.get_by_role("alert")).to_contain_text("cron: Expected 5 fields")
    expect(page.get_by_label("When (cron expression)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("When (cron expression)")).to_have_value("every night")
    assert_accessible(page, "schedules page with a refused schedule")
