from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from syncbucket_coordinator.container import Coordinator
from syncbucket_coordinator.loops import PeriodicLoop
from tests.unit.coordinator.fixtures import FakePublisher, Tenant


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_a_dispatcher_tick_releases_items_through_the_publisher(
    api: TestClient, firm_a: Tenant, coordinator: Coordinator, publisher: FakePublisher
) -> None:
    body = {"clients": "all", "modules": ["return_summary", "fetch_challans"]}
    run_id = api.post("/api/v1/runs", json=body, headers=firm_a.headers).json()["run_id"]
    dispatcher = next(loop for loop in coordinator.loops if loop.name == "dispatcher")
    # A release commits only under the leader lease (docs/architecture.md §18).
    assert coordinator.leadership.lease.try_acquire_or_renew() is not None
    assert dispatcher.run_once()
    assert {(m.run_id, m.portal) for m in publisher.published} == {
        (run_id, "traces"),
        (run_id, "itportal"),
    }
    assert len(publisher.published) == 6
    run = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()
    assert run["status"] == "running" and run["counts"]["queued"] == 6


def test_failed_publish_leaves_items_pending_and_the_loop_goes_on(
    api: TestClient, firm_a: Tenant, coordinator: Coordinator, publisher: FakePublisher
) -> None:
    body = {"clients": "all", "modules": ["return_summary"]}
    run_id = api.post("/api/v1/runs", json=body, headers=firm_a.headers).json()["run_id"]
    publisher.fail_with = ConnectionError("broker down")
    coordinator.start()
    dispatcher = next(loop for loop in coordinator.loops if loop.name == "dispatcher")
    wait_for(lambda: dispatcher.stats.failures >= 2)
    # the type only: exception texts can carry SQL, host names, URLs
    assert api.get("/healthz").json()["loops"]["dispatcher"]["last_error"] == "ConnectionError"
    assert api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()["counts"] == {
        **dict.fromkeys(["queued", "running", "succeeded", "failed", "skipped", "cancelled"], 0),
        "pending": 3,
    }
    publisher.fail_with = None
    wait_for(lambda: len(publisher.published) == 3)
    assert dispatcher.running
    coordinator.stop_loops()
    assert not dispatcher.running


def test_an_exception_in_a_tick_is_logged_and_the_loop_continues(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    loop = PeriodicLoop("test", 0.01, tick)
    with caplog.at_level(logging.ERROR, logger="syncbucket_coordinator.loops"):
        loop.start()
        wait_for(lambda: len(calls) >= 3)
        loop.stop()
    assert loop.stats.failures == 1 and loop.stats.last_error == "RuntimeError"
    assert any("loop test: tick failed" in r.getMessage() and r.exc_info for r in caplog.records)
    assert not loop.running


def test_stop_wakes_a_sleeping_loop_at_once() -> None:
    ticked = threading.Event()
    loop = PeriodicLoop("slow", 3600, ticked.set)
    loop.start()
    assert ticked.wait(5)
    started = time.monotonic()
    loop.stop()
    assert time.monotonic() - started < 1 and not loop.running


def test_a_dead_loop_makes_healthz_unhealthy(api: TestClient, coordinator: Coordinator) -> None:
    coordinator.start()
    coordinator.loops[0].stop()
    response = api.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unhealthy"


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="interval"):
        PeriodicLoop("bad", 0, lambda: None)


def test_consecutive_failures_back_off_and_a_success_resets() -> None:
    outcomes = iter([RuntimeError("a"), RuntimeError("b"), None])

    def tick() -> None:
        error = next(outcomes)
        if error is not None:
            raise error

    loop = PeriodicLoop("backoff", 1.0, tick)
    assert loop.next_wait() == 1.0
    loop.run_once()
    assert loop.next_wait() == 2.0
    loop.run_once()
    assert loop.next_wait() == 4.0
    assert loop.run_once() and loop.next_wait() == 1.0
    loop.stats.consecutive_failures = 50
    assert loop.next_wait() == 30.0
