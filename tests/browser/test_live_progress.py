"""Live progress under the conditions people meet: SSE blocked by a proxy, a long run
cancelled, a double-clicked Start Sync, a selection by shift-click across pages."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from syncbucket.domain.roles import Role
from tests.browser.conftest import SimFaults, Visit
from tests.browser.support import assert_accessible, shot

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

TERMINAL = {"completed", "completed_with_errors", "cancelled"}


def wait_for_end(visit: Visit, run_id: int, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    with visit.site.api() as api:
        while True:
            summary: dict[str, object] = api.get(f"/runs/{run_id}").json()
            if summary["status"] in TERMINAL:
                return summary
            assert time.monotonic() < deadline, f"run {run_id} did not end"
            time.sleep(0.3)


def start_from_bucket(visit: Visit, search: str, *modules: str) -> int:
    page = visit.page
    visit.go(f"/bucket?search={search}")
    page.get_by_role("checkbox", name="Select All", exact=True).check()
    for module in modules:
        page.get_by_role("checkbox", name=module).check()
    expect(page.locator("#estimate")).to_contain_text(re.compile(r"\d+ items? \("))
    page.get_by_role("button", name="Start Sync").click()
    page.wait_for_url(re.compile(r".*/runs/\d+\?started=1"))
    return int(re.search(r"/runs/(\d+)", page.url).group(1))  # type: ignore[union-attr]


def test_progress_falls_back_to_polling_when_sse_is_blocked(
    visit: Visit, sim_faults: SimFaults
) -> None:
    page = visit.page
    sim_faults("traces", latency_ms_min=150, latency_ms_max=250)
    requests: list[str] = []
    page.route("**/runs/*/events", lambda route: route.abort())  # a proxy that kills SSE
    page.on("request", lambda request: requests.append(request.url))
    visit.sign_in(Role.OPERATOR)
    run_id = start_from_bucket(visit, "Exports", "Return Summary")
    expect(page.locator("#live")).to_have_attribute("data-mode", "polling", timeout=15_000)
    expect(page.locator("#progress")).to_contain_text("Sync completed", timeout=90_000)
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    assert any(url.endswith(f"/runs/{run_id}/progress") for url in requests)
    summary = wait_for_end(visit, run_id)
    assert summary["status"] in ("completed", "completed_with_errors")


def test_a_long_run_is_cancelled_after_a_confirmation(visit: Visit, sim_faults: SimFaults) -> None:
    page = visit.page
    sim_faults("traces", latency_ms_min=400, latency_ms_max=600)
    sim_faults("itportal", latency_ms_min=400, latency_ms_max=600)
    visit.sign_in(Role.OPERATOR)
    run_id = start_from_bucket(visit, "", "Select all modules")
    expect(page.locator("#live")).to_have_attribute("data-mode", "sse", timeout=15_000)
    page.get_by_text("Cancel sync…").click()
    shot(page, "run-cancel-confirmation")
    assert_accessible(page, "cancel confirmation")
    page.get_by_role("button", name="Yes, cancel the sync").click()
    page.wait_for_url(re.compile(rf".*/runs/{run_id}\?notice=cancel-requested"))
    summary = wait_for_end(visit, run_id)
    assert summary["status"] == "cancelled"
    counts = summary["counts"]
    assert isinstance(counts, dict) and counts["cancelled"] > 0
    expect(page.locator("#run-status")).to_have_text("Cancelled", timeout=30_000)
    expect(page.locator("#progress")).to_contain_text("Sync cancelled")


def test_a_double_clicked_start_sync_makes_one_run(visit: Visit) -> None:
    page, site = visit.page, visit.site
    visit.sign_in(Role.OPERATOR)
    visit.go("/bucket?search=Zenith")
    page.get_by_role("checkbox", name="Select All", exact=True).check()
    page.get_by_role("checkbox", name="Verify LDC").check()
    expect(page.locator("#estimate")).to_contain_text(re.compile(r"\d+ items? \("))
    with site.api() as api:
        before = {r["run_id"] for r in api.get("/runs", params={"limit": 200}).json()["runs"]}
    page.get_by_role("button", name="Start Sync").dblclick()
    page.wait_for_url(re.compile(r".*/runs/\d+\?started=1"))
    page.wait_for_load_state("networkidle")
    with site.api() as api:
        after = {r["run_id"] for r in api.get("/runs", params={"limit": 200}).json()["runs"]}
    assert len(after - before) == 1, after - before
    wait_for_end(visit, next(iter(after - before)))


def test_shift_click_selects_a_range_and_the_count_follows(visit: Visit) -> None:
    page = visit.page
    visit.sign_in(Role.OPERATOR)
    visit.go("/bucket?size=25")
    picks = page.locator("input.pick")
    picks.nth(2).click()
    picks.nth(6).click(modifiers=["Shift"])
    expect(page.locator("#selected-count")).to_have_text("5 clients selected")
    assert [picks.nth(i).is_checked() for i in range(8)] == [
        False,
        False,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    page.get_by_role("link", name="Next page").click()
    expect(page.locator("#selected-count")).to_have_text("5 clients selected")
    page.locator("input.pick").first.click()
    expect(page.locator("#selected-count")).to_have_text("6 clients selected")
    hidden = page.locator('#offpage input[name="client_id"]')
    expect(hidden).to_have_count(5)  # the first page's picks travel with the form
    page.get_by_role("button", name="Clear selection").click()
    expect(page.locator("#selected-count")).to_have_text("No client selected")
