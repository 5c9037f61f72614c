"""The whole flow as a person at a CA firm would go through it, in real Chromium.

Sign in; import a CSV with two bad rows and read both reasons; filter the Client Master;
Multi-Client Sync; Select All; tick modules; read the estimate; Start Sync; watch the
progress move without a reload to the end; check the summary against the API; filter the
exception report and download it; Re-sync failed. Every page passes axe-core.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from syncbucket.domain.roles import Role
from tests.browser.conftest import Visit
from tests.browser.support import assert_accessible, number_in, shot, text_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

CSV = "\n".join(
    [
        "name,tan,pan,traces_user,traces_password,itportal_user,itportal_password",
        "Imported Good One,PUNA00001A,AAACP0001A,PUNA00001A,Imported-Secret-1,,",
        "Imported Bad TAN,PUNA1,AAACP0002A,,,,",
        "Imported Good Two,PUNA00003A,AAACP0003A,,,,",
        "Imported No Password,PUNA00004A,AAACP0004A,PUNA00004A,,,",
    ]
)


def progress_text(page: Page) -> str:
    return " ".join(page.locator("#progress").inner_text().split())


def test_the_whole_flow_as_a_person(visit: Visit, tmp_path: Path) -> None:
    page, site = visit.page, visit.site
    visit.sign_in(Role.ADMIN)
    expect(page.get_by_role("heading", name="Client Master")).to_be_visible()
    shot(page, "client-master")
    assert_accessible(page, "Client Master")

    page.get_by_role("button", name="Import CSV").click()
    expect(page.get_by_role("heading", name="Import clients")).to_be_visible()
    assert_accessible(page, "Import clients")
    source = tmp_path / "clients.csv"
    source.write_text(CSV, encoding="utf-8")
    page.get_by_label("CSV file").set_input_files(str(source))
    page.get_by_role("button", name="Import CSV").click()
    result = text_of(page)
    assert "2 clients imported (2 new, 0 updated), 2 rows rejected" in result
    rejected = page.get_by_role("table", name="Rejected rows")
    expect(rejected).to_contain_text("TAN 'PUNA1' is not valid")
    expect(rejected).to_contain_text("traces_password is empty but traces_user is given")
    rows = [" ".join(r.split()) for r in rejected.locator("tbody tr").all_inner_texts()]
    assert rows[0].startswith("3 tan") and rows[1].startswith("5 traces_password"), rows
    shot(page, "import-report")
    site.secrets.add("Imported-Secret-1")

    page.get_by_role("link", name="Back to the Client Master").click()
    page.get_by_label("Search name, TAN or PAN").fill("Traders")
    page.get_by_role("button", name="Apply filter").click()
    matching = number_in(text_of(page), r"of (\d+) clients")
    assert matching == 26
    page.get_by_role("button", name="Multi-Client Sync").click()

    expect(page.get_by_role("heading", name="Sync Bucket")).to_be_visible()
    page.get_by_role("checkbox", name="Select All", exact=True).check()
    expect(page.locator("#selected-count")).to_have_text(
        "26 clients selected (all matching the filter)"
    )
    page.get_by_role("checkbox", name="Verify LDC").check()
    page.get_by_role("checkbox", name="Outstanding Demand").check()
    estimate = page.locator("#estimate")
    expect(estimate).to_contain_text("52 items (26 clients)")
    expect(estimate).to_contain_text("TRACES: 52 items")
    expect(estimate).to_contain_text("Expected duration")
    shot(page, "sync-bucket")
    assert_accessible(page, "Sync Bucket")

    with site.api() as api:
        before = {run["run_id"] for run in api.get("/runs").json()["runs"]}
    page.get_by_role("button", name="Start Sync").click()
    page.wait_for_url(re.compile(r".*/runs/\d+\?started=1"))
    run_id = int(re.search(r"/runs/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert run_id not in before
    page.evaluate("() => { window.stillTheSamePage = true; }")

    seen_texts = {progress_text(page)}
    deadline = time.monotonic() + 120
    while "Sync completed" not in progress_text(page):
        seen_texts.add(progress_text(page))
        assert time.monotonic() < deadline, f"run {run_id} did not end: {progress_text(page)}"
        if len(seen_texts) == 2:
            shot(page, "run-live")
            assert_accessible(page, "run page, live")
        page.wait_for_timeout(200)
    assert len(seen_texts) >= 2, "the progress never moved on the page"
    assert page.evaluate("() => window.stillTheSamePage === true"), "the page reloaded"

    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    stream = page.request.get(f"{site.url}/runs/{run_id}/events")  # the run is over: it ends
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in stream.text() and "event: done" in stream.text()
    visit.seen.add("events", stream.text())  # the SSE payload joins the secret scan
    expect(page.locator("#run-status")).to_have_text("Completed with errors")
    with site.api() as api:
        summary = api.get(f"/runs/{run_id}").json()
    counts = summary["counts"]
    assert counts["failed"] == 2  # Himalaya Traders' TRACES password is wrong (both items)
    words = text_of(page, "#progress")
    assert (
        f"Sync completed: {counts['succeeded']} of {summary['total_items']} items updated, "
        f"{counts['failed']} need attention." in words
    )
    for module, module_counts in summary["by_module"].items():
        title = {"verify_ldc": "Verify LDC", "outstanding_demand": "Outstanding Demand"}[module]
        row = page.get_by_role("row", name=re.compile(f"^{title}"))
        cells = row.locator("td").all_inner_texts()
        assert cells[1] == str(module_counts["succeeded"]) and cells[2] == str(
            module_counts["failed"]
        )
    shot(page, "run-summary")
    assert_accessible(page, "run summary and exception report")

    logins = page.get_by_role("region", name=re.compile("Logins rejected"))
    expect(logins.get_by_role("link", name=re.compile("Himalaya Traders"))).to_have_attribute(
        "href", re.compile(r"/clients/\d+/edit")
    )
    page.get_by_label("Error code").select_option("invalid_credentials")
    page.get_by_role("button", name="Filter", exact=True).click()
    table = page.get_by_role("table", name=re.compile("Failed items"))
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("invalid_credentials")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download CSV").click()
    downloaded = Path(download_info.value.path()).read_bytes().decode("utf-8")
    with site.api() as api:
        from_api = api.get(f"/runs/{run_id}/report.csv").text
    assert downloaded == from_api
    assert downloaded.split("\r\n")[0] == (
        "client,tan,module,portal,error_code,message,attempts,finished_at"
    )
    visit.seen.add("report.csv", downloaded)

    page.get_by_role("button", name="Re-sync failed").click()
    page.wait_for_url(re.compile(r".*/runs/\d+\?started=1"))
    child = int(re.search(r"/runs/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.get_by_role("link", name=f"run {run_id}")).to_be_visible()
    with site.api() as api:
        child_summary = api.get(f"/runs/{child}").json()
        failed = api.get(f"/runs/{run_id}/items", params={"status": "failed"}).json()["items"]
        retried = api.get(f"/runs/{child}/items").json()["items"]
    assert child_summary["parent_run_id"] == run_id and child_summary["source"] == "retry"
    assert sorted((i["client_id"], i["module"]) for i in retried) == sorted(
        (i["client_id"], i["module"]) for i in failed
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    history = page.get_by_role("table", name=re.compile("newest first"))
    expect(history).to_contain_text(f"re-sync of run {run_id}")
    expect(history).to_contain_text("26 × 2")
    shot(page, "run-history")
    assert_accessible(page, "run history")
