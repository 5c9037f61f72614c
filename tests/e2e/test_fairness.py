"""A one-client run started during a large run is not starved (docs/architecture.md §5)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from syncbucket.clientmaster.demo_clients import demo_client
from tests.e2e.api import start_run, summary, wait_terminal
from tests.e2e.conftest import RunningStack
from tests.e2e.processes import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

LATENCY_MS = 50
SLACK_SECONDS = 1.5  # dispatch interval + polling granularity


@pytest.fixture
def slow_portals(e2e_stack: RunningStack) -> Iterator[None]:
    for portal in ("traces", "itportal"):
        knobs = {"latency_ms_min": LATENCY_MS, "latency_ms_max": LATENCY_MS}
        httpx.put(f"{e2e_stack.sim_url}/admin/faults/{portal}", json=knobs).raise_for_status()
    yield
    httpx.post(f"{e2e_stack.sim_url}/admin/reset").raise_for_status()


def one_client(index: int) -> dict[str, list[str]]:
    return {"tans": [demo_client(index).tan]}


def test_a_small_run_finishes_long_before_a_large_one(
    api: httpx.Client, stack_output: Stack, slow_portals: None
) -> None:
    solo_id = start_run(api, clients=one_client(3))
    _, solo = wait_terminal(api, stack_output, solo_id, timeout=60)
    large_id = start_run(api)
    stack_output.wait_for(
        "the large run to be under way",
        lambda: True if summary(api, large_id)["items_done"] >= 100 else None,
        60,
    )
    small_id = start_run(api, clients=one_client(4))
    small_final, during = wait_terminal(api, stack_output, small_id, timeout=60)
    large_now = summary(api, large_id)
    print(f"fairness: 1-client run {solo:.2f}s alone, {during:.2f}s during a 300-client run")
    assert small_final["items_done"] == small_final["total_items"] == 7
    assert large_now["items_done"] < large_now["total_items"] / 2, "the large run ran ahead"
    assert during <= 3 * solo + SLACK_SECONDS, f"small run took {during:.1f}s vs {solo:.1f}s alone"
    response = api.post(f"/runs/{large_id}/cancel")
    assert response.status_code == 202, response.text
    cancelled, _ = wait_terminal(api, stack_output, large_id, timeout=60)
    assert cancelled["status"] == "cancelled"
