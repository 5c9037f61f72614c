"""A whole run on the real processes: 300 demo clients x all six modules, via the HTTP API."""

from __future__ import annotations

import httpx
import pytest

from syncbucket.clientmaster.demo_clients import demo_client
from syncbucket.pipeline.events import RUN_COMPLETED_TYPE
from tests.e2e.api import all_items, start_run, wait_terminal
from tests.e2e.checks import (
    assert_counters_add_up,
    served_records,
    stored_records,
    wrong_credentials,
)
from tests.e2e.conftest import RunningStack, SeededDatabase
from tests.e2e.processes import Stack
from tests.e2e.rabbit import EventTap

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

SAMPLED = (0, 1, 2)  # clients with good credentials on both portals
ITEMS_PER_CLIENT = 7


def test_a_full_run_syncs_reports_and_announces_once(
    api: httpx.Client,
    e2e_stack: RunningStack,
    e2e_database: SeededDatabase,
    events: EventTap,
    stack_output: Stack,
) -> None:
    httpx.post(f"{e2e_stack.sim_url}/admin/reset").raise_for_status()
    run_id = start_run(api)
    final, seconds = wait_terminal(api, stack_output, run_id, timeout=150)
    print(f"E2E run of {final['total_items']} items took {seconds:.1f}s")
    assert final["total_items"] == e2e_database.clients * ITEMS_PER_CLIENT
    assert_counters_add_up(final)
    failed = all_items(api, run_id, status="failed")
    check_wrong_credentials(failed, e2e_database.clients, e2e_stack.sim_url)
    check_records(e2e_stack.sim_url, e2e_database.url)
    announced = stack_output.wait_for(
        "run.completed", lambda: events.of_type(RUN_COMPLETED_TYPE, run_id) or None, 30
    )
    assert len(announced) == 1
    assert announced[0]["data"] == final  # the event carries the summary GET /runs/{id} shows
    check_retry_failed(api, stack_output, events, run_id, failed)


def check_wrong_credentials(failed: list[dict[str, object]], clients: int, sim_url: str) -> None:
    wrong = wrong_credentials(clients)
    refused = [i for i in failed if i["error_code"] == "invalid_credentials"]
    assert {(i["tan"], i["portal"]) for i in refused} == {(t, p.value) for t, p in wrong.items()}
    assert all(i["attempts"] == 1 for i in refused)
    stats = httpx.get(f"{sim_url}/admin/stats").json()["portals"]
    for portal in ("traces", "itportal"):
        pairs = sum(1 for p in wrong.values() if p.value == portal)
        logins = stats[portal]["logins"]
        assert 1 <= logins["rejected"] <= pairs, (portal, logins)  # one login each, no storm
        assert logins["locked"] == 0 and stats[portal]["lockouts"] == 0


def check_records(sim_url: str, database_url: str) -> None:
    for index in SAMPLED:
        tan = demo_client(index).tan
        stored, keys = stored_records(database_url, tan)
        served = served_records(sim_url, index)
        assert stored == served, tan
        assert keys == {module: len(contents) for module, contents in served.items()}
        assert sum(keys.values()) > 0


def check_retry_failed(
    api: httpx.Client,
    stack: Stack,
    events: EventTap,
    run_id: int,
    failed: list[dict[str, object]],
) -> None:
    response = api.post(f"/runs/{run_id}/retry-failed")
    assert response.status_code == 201, response.text
    retry_id = response.json()["run_id"]
    items = all_items(api, retry_id)

    def key(item: dict[str, object]) -> tuple[object, ...]:
        return (item["client_id"], item["module"], item["portal"])

    assert sorted(map(key, items)) == sorted(map(key, failed))
    retried, _ = wait_terminal(api, stack, retry_id, timeout=60)
    assert retried["source"] == "retry" and retried["parent_run_id"] == run_id
    announced = stack.wait_for(
        "the retry's run.completed",
        lambda: events.of_type(RUN_COMPLETED_TYPE, retry_id) or None,
        30,
    )
    assert len(announced) == 1
