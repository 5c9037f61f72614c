"""The Sync Bucket (estimate, Start Sync, refusals) and a run's page, stream and reports."""

from __future__ import annotations

import csv
import io
import re

import sqlalchemy as sa

from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import unit_of_work
from syncbucket.domain.roles import Role
from tests.unit.coordinator.outcomes import finish_items
from tests.unit.web.support import Browser, World, text_of


def start(browser: Browser, **fields: object) -> str:
    page = browser.get("/bucket")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key is not None
    response = browser.post("/bucket/start", {"idempotency_key": key.group(1), **fields})
    assert response.status_code == 303, text_of(response)[:300]
    return str(response.headers["location"])


def run_id_of(location: str) -> int:
    return int(location.split("/runs/")[1].split("?")[0])


def test_the_estimate_counts_items_requests_and_time(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    operator.get("/bucket")
    response = operator.post("/bucket/estimate", {"select_all": "1", "all_modules": "1"})
    page = text_of(response)
    assert "28 items (4 clients)" in page  # 4 clients x 7 module parts
    assert "TRACES: 20 items" in page and "IT portal: 8 items" in page
    assert "at 5/s" in page and "Expected duration" in page
    nothing = text_of(operator.post("/bucket/estimate", {"select_all": "1"}))
    assert "Tick at least one module" in nothing


def test_select_all_sends_the_filter_and_makes_one_run_on_a_double_click(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    page = operator.get("/bucket?search=DELA0000&module=verify_ldc&never_synced=1")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    fields = {
        "idempotency_key": key,
        "select_all": "1",
        "sync_module": "verify_ldc",
        "search": "DELA0000",
        "module": "verify_ldc",
        "never_synced": "1",
        "exclude_id": str(world.a.client_ids[0]),
    }
    first = operator.post("/bucket/start", fields)
    again = operator.post("/bucket/start", fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    run_id = run_id_of(first.headers["location"])
    with unit_of_work(world.sessions) as session:
        runs = session.scalars(sa.select(Run).where(Run.firm_id == world.a.id)).all()
        clients = set(session.scalars(sa.select(Item.client_id).where(Item.run_id == run_id)))
    assert len(runs) == 1
    wanted = {"search": "DELA0000", "never_synced": True, "module": "verify_ldc"}
    assert runs[0].selection == {"kind": "filter", "filter": wanted, "excluded": 1}
    assert clients == set(world.a.client_ids[1:])  # every client matches; one is excluded
    assert runs[0].requested_by == f"ui:{world.a.users[Role.OPERATOR]}"


def test_refusals_are_shown_next_to_their_control(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    operator.get("/bucket")
    no_clients = operator.post(
        "/bucket/start", {"sync_module": "verify_ldc", "idempotency_key": "bucket-a"}
    )
    assert no_clients.status_code == 422
    assert re.search(
        r'id="clients-problem" role="alert">Select at least one client', no_clients.text
    )
    no_modules = operator.post(
        "/bucket/start", {"client_id": str(world.a.client_ids[0]), "idempotency_key": "bucket-b"}
    )
    assert re.search(r'id="module-problem" role="alert">Tick at least one module', no_modules.text)
    assert (
        f'value="{world.a.client_ids[0]}" id="pick-{world.a.client_ids[0]}" checked'
        in no_modules.text
    )
    theirs = operator.post(
        "/bucket/start",
        {
            "client_id": str(world.b.client_ids[0]),
            "sync_module": "verify_ldc",
            "idempotency_key": "bucket-c",
        },
    )
    assert theirs.status_code == 422 and "Not clients of this firm: client id" in text_of(theirs)


def test_a_finished_runs_page_has_the_summary_report_and_resync(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    run_id = run_id_of(start(operator, select_all="1", sync_module="verify_ldc"))
    failing = world.a.client_ids[2]
    finish_items(world.sessions, run_id, fails=lambda item: item.client_id == failing)
    page = operator.get(f"/runs/{run_id}")
    words = text_of(page)
    assert "Sync completed: 3 of 4 items updated, 1 need attention." in words
    assert "Exception report" in words and "portal_error</a>: 1" in page.text
    assert "'=HYPERLINK(bad), portal said no" not in words  # the page shows the text as is
    assert "=HYPERLINK(bad), portal said no" in words
    assert "sse-connect" not in page.text  # nothing to stream for a finished run
    report = operator.get(f"/runs/{run_id}/report.csv")
    api = world.app_client.get(
        f"/api/v1/runs/{run_id}/report.csv", headers={"Authorization": f"Bearer {world.a.token}"}
    )
    assert report.text == api.text
    assert list(csv.reader(io.StringIO(report.text)))[1][1] == world.a.tans[2]
    filtered = text_of(operator.get(f"/runs/{run_id}?code=nothing-like-it"))
    assert "No failed item matches this filter" in filtered
    resync = operator.post(f"/runs/{run_id}/retry-failed")
    child = run_id_of(resync.headers["location"])
    with unit_of_work(world.sessions) as session:
        items = session.scalars(sa.select(Item).where(Item.run_id == child)).all()
        parent = session.get(Run, child).parent_run_id  # type: ignore[union-attr]
    assert [item.client_id for item in items] == [failing] and parent == run_id
    assert (
        operator.post(f"/runs/{run_id}/retry-failed").headers["location"]
        == resync.headers["location"]
    )
    history = text_of(operator.get("/runs"))
    assert f"re-sync of run {run_id}" in history and f"re-synced by run {child}" in history
    assert "1 × 1" in history and "4 × 1" in history


def test_a_running_run_streams_progress_and_can_be_cancelled(world: World) -> None:
    operator = world.browser(Role.OPERATOR)
    run_id = run_id_of(start(operator, select_all="1", all_modules="1"))
    page = operator.get(f"/runs/{run_id}")
    assert f'sse-connect="/runs/{run_id}/events"' in page.text
    assert "Cancel sync" in page.text and "Waiting to start: 28 items" in text_of(page)
    fragment = operator.get(f"/runs/{run_id}/progress")
    assert 'data-finished="false"' in fragment.text
    finish_items(
        world.sessions,
        run_id,
        fails=lambda item: False,
        only=lambda item: item.module == "verify_ldc",
    )
    cancelled = operator.post(f"/runs/{run_id}/cancel")
    assert cancelled.headers["location"] == f"/runs/{run_id}?notice=cancel-requested"
    words = text_of(operator.get(cancelled.headers["location"]))
    assert (
        "Cancel requested" in words
        and "Sync cancelled: 4 of 28 items updated, 24 not started." in words
    )
    with operator.client.stream("GET", f"/runs/{run_id}/events") as stream:
        body = "".join(stream.iter_text())
    assert "event: progress" in body and "event: done" in body and "Sync cancelled" in body
