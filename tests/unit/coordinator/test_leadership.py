"""Leader-only duties in the coordinator (docs/architecture.md §18), on SQLite.

The duties (dispatcher, reaper) run only in the replica holding the lease; the API and
the metrics loop run in every one. PostgreSQL and real processes:
tests/integration/db/test_leader_lease_postgres.py and tests/perf/test_failover_bench.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import cast

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from syncbucket.config import Settings, load_settings
from syncbucket.coordination.lease import LeaderLease
from syncbucket.db.engine import make_engine
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.metrics import render_latest
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import Coordinator, bootstrap
from syncbucket_coordinator.leadership import Leadership
from syncbucket_coordinator.loops import PeriodicLoop
from tests.unit.coordinator.fixtures import FakePublisher, Tenant, make_tenant

LEASE = 0.6  # renewals every 0.2 s, the holder's own deadline 0.48 s after each


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds it took ``condition`` to hold."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
    return time.monotonic() - started


def metric(name: str, **labels: str) -> float:
    body, _ = render_latest()
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def loop_named(coordinator: Coordinator, name: str) -> PeriodicLoop:
    return next(loop for loop in coordinator.loops if loop.name == name)


class Sessions:
    """A session factory whose database can be switched off, or made to hang."""

    def __init__(self, real: SessionFactory) -> None:
        self.real = real
        self.down = False
        self.hang = threading.Event()
        self.unhang = threading.Event()

    def __call__(self) -> Session:
        if self.hang.is_set():
            self.unhang.wait(30)
        if self.down:
            raise sa.exc.OperationalError("UPDATE leases", {}, Exception("server closed"))
        return self.real()


class CountingDuty:
    """A duty loop that records when each of its ticks ran."""

    def __init__(self, name: str = "duty") -> None:
        self.ticks: list[float] = []
        self.loop = PeriodicLoop(name, 0.01, lambda: self.ticks.append(time.monotonic()))


@pytest.fixture
def session_factory(engine: sa.Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def fast_settings(sqlite_url: str) -> Settings:
    return load_settings(
        database_url=sqlite_url, dispatch_interval_seconds=0.05, leader_lease_seconds=LEASE
    )


@pytest.fixture
def pair(
    fast_settings: Settings, sqlite_url: str
) -> Iterator[list[tuple[Coordinator, FakePublisher]]]:
    """Two coordinators on one database file, each with its own engine and publisher."""
    made: list[tuple[Coordinator, FakePublisher]] = []
    for _ in range(2):
        publisher = FakePublisher()
        made.append(
            (
                bootstrap(fast_settings, engine=make_engine(sqlite_url), publisher=publisher),
                publisher,
            )
        )
    yield made
    for coordinator, _ in made:
        coordinator.close()


def test_a_started_coordinator_leads_at_once_and_healthz_says_so(
    api: TestClient, coordinator: Coordinator
) -> None:
    acquired = metric("syncbucket_coordinator_leader_changes_total", change="acquired")
    coordinator.start()  # no waiting: the first acquisition is synchronous
    assert loop_named(coordinator, "dispatcher").running
    body = api.get("/healthz").json()
    assert body["status"] == "ok"
    leader = body["leader"]
    me = coordinator.leadership.lease.holder
    assert leader["leading"] is True and leader["holder"] == leader["replica"] == me
    assert leader["fencing_token"] == 1 and leader["lease_seconds"] == 10.0
    assert 9.0 < leader["lease_expires_in_seconds"] <= 10.0
    assert {name for name, loop in body["loops"].items() if loop["leader_only"]} == {
        "dispatcher",
        "reaper",
        "scheduler",
    }
    assert metric("syncbucket_coordinator_leader") == 1.0
    assert metric("syncbucket_coordinator_leader_changes_total", change="acquired") == acquired + 1
    coordinator.stop_loops()
    assert metric("syncbucket_coordinator_leader") == 0.0
    after = api.get("/healthz").json()["leader"]
    assert after["leading"] is False and after["holder"] is None  # released: nobody leads
    assert after["lease_expires_in_seconds"] < 0


def test_only_the_leader_dispatches_and_a_clean_stop_hands_over_at_once(
    pair: list[tuple[Coordinator, FakePublisher]],
) -> None:
    (first, first_out), (second, second_out) = pair
    first.start()
    second.start()
    assert first.leadership.leading and not second.leadership.leading
    assert loop_named(first, "dispatcher").running
    assert not loop_named(second, "dispatcher").running
    assert not loop_named(second, "reaper").running
    assert loop_named(second, "metrics").running  # every replica refreshes its gauges
    tenant = make_tenant(second.sessions, "Alpha", ["DELA00001A", "DELA00002A"])
    with TestClient(create_app(second)) as api:  # the follower serves the API too
        health = api.get("/healthz")
        assert health.status_code == 200, health.text  # idle duties are fine off the lead
        assert health.json()["leader"]["holder"] == first.leadership.lease.holder
        assert health.json()["leader"]["leading"] is False
        run = start_run(api, tenant)
        wait_for(lambda: len(first_out.published) == 2)
        assert {m.run_id for m in first_out.published} == {run} and not second_out.published

        first.stop_loops()  # clean shutdown: duties stop, then the lease is released
        took = wait_for(lambda: second.leadership.leading)
        assert took < 2 * second.leadership.lease.renew_interval + 0.2  # not a whole lease
        assert api.get("/healthz").json()["leader"]["fencing_token"] == 2
        later = start_run(api, tenant)
        wait_for(lambda: len(second_out.published) == 2)
        assert {m.run_id for m in second_out.published} == {later}
        assert len(first_out.published) == 2


def start_run(api: TestClient, tenant: Tenant) -> int:
    body = {"clients": "all", "modules": ["return_summary"]}
    response = api.post("/api/v1/runs", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["run_id"])


def test_a_leader_that_cannot_renew_stops_its_duties_then_takes_them_back(
    session_factory: SessionFactory,
) -> None:
    sessions = Sessions(session_factory)
    lease = LeaderLease(cast(SessionFactory, sessions), holder="a", ttl_seconds=LEASE)
    duty = CountingDuty()
    leadership = Leadership(lease, [duty.loop])
    leadership.start()
    try:
        assert leadership.leading and duty.loop.running
        wait_for(lambda: len(duty.ticks) > 3)
        sessions.down = True
        failed_at = time.monotonic()
        wait_for(lambda: not duty.loop.running)
        # the first failed renewal stops the duties, long before the lease would run out
        assert time.monotonic() - failed_at < lease.renew_interval + 0.15
        assert leadership.loop.running and leadership.loop.stats.failures >= 1
        assert leadership.loop.next_wait() == lease.renew_interval  # never backs off
        sessions.down = False
        wait_for(lambda: leadership.leading and duty.loop.running)
        assert lease.token == 1  # nobody else took it meanwhile: the same tenure
    finally:
        leadership.stop()
    assert not duty.loop.running and not leadership.loop.running


def test_no_duty_tick_starts_after_the_lease_ran_out_even_if_renewing_hangs(
    session_factory: SessionFactory,
) -> None:
    sessions = Sessions(session_factory)
    lease = LeaderLease(cast(SessionFactory, sessions), holder="a", ttl_seconds=LEASE)
    duty = CountingDuty()
    leadership = Leadership(lease, [duty.loop])
    leadership.start()
    try:
        wait_for(lambda: len(duty.ticks) > 3)
        sessions.hang.set()  # the next renewal never returns: the lease loop is stuck
        hung_at = time.monotonic()
        wait_for(lambda: not lease.holds(), timeout=LEASE * 2)
        deadline = time.monotonic()
        assert deadline - hung_at <= LEASE
        time.sleep(0.2)
        assert duty.loop.running  # the stuck lease loop could not stop it...
        assert duty.ticks[-1] <= deadline + 0.02  # ...but it does nothing any more
        assert duty.loop.stats.skipped > 5
        sessions.down = True
        sessions.unhang.set()  # the hung renewal fails at last: now the duty stops
        wait_for(lambda: not duty.loop.running)
    finally:
        sessions.unhang.set()
        leadership.stop()


def test_a_dispatch_tick_outside_the_lease_commits_nothing(
    api: TestClient,
    firm_a: Tenant,
    coordinator: Coordinator,
    publisher: FakePublisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run_id = start_run(api, firm_a)
    dispatcher = loop_named(coordinator, "dispatcher")
    with caplog.at_level(logging.WARNING, logger="syncbucket_coordinator.loops"):
        assert dispatcher.run_once()  # refused, not failed: no back-off
    assert dispatcher.stats.failures == 0
    run = api.get(f"/api/v1/runs/{run_id}", headers=firm_a.headers).json()
    assert run["status"] == "pending" and run["counts"]["pending"] == 3
    assert any("rolled back" in record.getMessage() for record in caplog.records)


def test_a_stopped_leader_loop_makes_the_leader_unhealthy_but_not_a_follower(
    pair: list[tuple[Coordinator, FakePublisher]],
) -> None:
    (first, _), (second, _) = pair
    first.start()
    second.start()
    with TestClient(create_app(first)) as one, TestClient(create_app(second)) as two:
        assert one.get("/healthz").status_code == 200
        assert two.get("/healthz").status_code == 200
        loop_named(first, "reaper").stop()
        loop_named(second, "reaper").stop()  # was not running anyway
        assert one.get("/healthz").status_code == 503
        assert two.get("/healthz").status_code == 200


def test_leadership_stop_releases_only_after_the_duties_stopped(
    session_factory: SessionFactory, engine: sa.Engine
) -> None:
    lease = LeaderLease(make_session_factory(engine), holder="a", ttl_seconds=LEASE)
    seen: list[tuple[str, float | None]] = []

    def tick() -> None:
        with session_factory() as session:
            view = lease.view(session)
        seen.append(("tick", None if view is None else view.expires_in_seconds))

    duty = PeriodicLoop("duty", 0.01, tick)
    leadership = Leadership(lease, [duty])
    leadership.start()
    wait_for(lambda: len(seen) > 3)
    leadership.stop()
    assert all(left is not None and left > 0 for _, left in seen)  # never after the release
    with session_factory() as session:
        view = lease.view(session)
    assert view is not None and view.active_holder is None
