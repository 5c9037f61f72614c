"""Two coordinators on one PostgreSQL database (docs/architecture.md §18): one leads and
dispatches, both serve the API; when the leader's lease renewal stops, its duties stop
on their own and the other takes over within the lease time, never overlapping.

In-process (bootstrap with fake publishers); the real processes and kill -9 are in
tests/perf/test_failover_bench.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from syncbucket.config import load_settings
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import Coordinator, bootstrap
from syncbucket_coordinator.loops import PeriodicLoop
from tests.support.db import scratch_postgres
from tests.unit.coordinator.fixtures import FakePublisher, Tenant, make_tenant

pytestmark = pytest.mark.integration

LEASE = 2.0


@dataclass
class Replica:
    coordinator: Coordinator
    publisher: FakePublisher
    #: (start, end) of every dispatcher tick, monotonic
    ticks: list[tuple[float, float]] = field(default_factory=list)

    @property
    def dispatcher(self) -> PeriodicLoop:
        return next(loop for loop in self.coordinator.loops if loop.name == "dispatcher")

    def record_ticks(self) -> None:
        loop = self.dispatcher
        tick = loop._tick
        lock = threading.Lock()

        def recorded() -> object:
            started = time.monotonic()
            try:
                return tick()
            finally:
                with lock:
                    self.ticks.append((started, time.monotonic()))

        loop._tick = recorded


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated database of this test's own."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture
def replicas(database_url: str) -> Iterator[list[Replica]]:
    settings = load_settings(
        database_url=database_url,
        dispatch_interval_seconds=0.05,
        leader_lease_seconds=LEASE,
    )
    made = []
    for _ in range(2):
        publisher = FakePublisher()
        engine = make_engine(database_url)
        made.append(Replica(bootstrap(settings, engine=engine, publisher=publisher), publisher))
    for replica in made:
        replica.record_ticks()
    yield made
    for replica in made:
        replica.coordinator.close()


def wait_for(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
    return time.monotonic() - started


def start_run(api: TestClient, tenant: Tenant) -> int:
    body = {"clients": "all", "modules": ["return_summary", "fetch_challans"]}
    response = api.post("/api/v1/runs", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return int(response.json()["run_id"])


def test_one_leader_dispatches_and_the_other_takes_over_when_its_renewals_stop(
    replicas: list[Replica],
) -> None:
    for replica in replicas:
        replica.coordinator.start()
    leaders = [r for r in replicas if r.coordinator.leadership.leading]
    assert len(leaders) == 1
    old = leaders[0]
    new = next(r for r in replicas if r is not old)
    assert old.dispatcher.running and not new.dispatcher.running
    tenant = make_tenant(new.coordinator.sessions, "Failover", ["PUNE00001P", "PUNE00002P"])

    with (
        TestClient(create_app(old.coordinator)) as old_api,
        TestClient(create_app(new.coordinator)) as new_api,
    ):
        for api in (old_api, new_api):  # both answer, both name the same leader
            leader = api.get("/healthz").json()["leader"]
            assert leader["holder"] == old.coordinator.leadership.lease.holder
            assert leader["fencing_token"] == 1
            assert 0 < leader["lease_expires_in_seconds"] <= LEASE  # the database's clock
        first_run = start_run(new_api, tenant)  # accepted by the follower...
        wait_for(lambda: len(old.publisher.published) == 4, 5)  # ...released by the leader
        assert {m.run_id for m in old.publisher.published} == {first_run}
        assert not new.publisher.published and not new.ticks

        # The leader's renewals stop as in a kill -9 (no release); its dispatcher thread
        # is left running, so only self-fencing can stop it.
        old.coordinator.leadership.loop.stop()
        stopped = time.monotonic()
        took = wait_for(lambda: new.coordinator.leadership.leading, LEASE * 2)
        assert took <= LEASE + new.coordinator.leadership.lease.renew_interval + 0.5
        wait_for(lambda: bool(new.ticks), 2)
        assert old.dispatcher.running  # nobody stopped it...
        assert old.dispatcher.stats.skipped > 0  # ...it held back on its own
        last_old = max(end for _, end in old.ticks)
        first_new = min(start for start, _ in new.ticks)
        assert last_old < first_new, "the old leader's last tick overlapped the new one's"
        assert last_old - stopped <= LEASE  # it stopped within its lease
        assert not old.coordinator.leadership.leading

        leader = old_api.get("/healthz").json()["leader"]
        assert leader["holder"] == new.coordinator.leadership.lease.holder
        assert leader["fencing_token"] == 2 and leader["leading"] is False
        assert new_api.get("/healthz").json()["leader"]["leading"] is True

        second_run = start_run(old_api, tenant)
        wait_for(lambda: len(new.publisher.published) == 4, 5)
        assert {m.run_id for m in new.publisher.published} == {second_run}
        assert len(old.publisher.published) == 4  # nothing more from the old leader
