"""The actors count what they do: attempts, retries, finished items, applied outcomes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from syncbucket.domain.portals import ModuleKey
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import ITPORTAL_QUEUE, RESULTS_QUEUE, TRACES_QUEUE, make_broker
from syncbucket.messaging.log_fields import ClientTans
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.messaging.runtime import start_worker
from syncbucket.messaging.worker_actor import OutcomeRecorder, WorkActor
from syncbucket.pipeline.work import WorkDeps
from syncbucket.portalsim.server import RunningSimulator
from tests.support.messaging_world import World

ITEM = {"portal": "itportal", "module": "fetch_challans"}


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def publisher(deps: WorkDeps) -> Iterator[DramatiqWorkPublisher]:
    broker = make_broker(deps.settings)
    handlers = ActorHandlers(work=WorkActor(deps, broker), outcome=OutcomeRecorder(deps.sessions))
    declare_actors(broker, handlers, item_time_limit_seconds=30.0)
    queues = {TRACES_QUEUE, ITPORTAL_QUEUE, RESULTS_QUEUE}
    worker = start_worker(broker, queues=queues, threads=2, idle_timeout_ms=50)
    yield DramatiqWorkPublisher(broker)
    worker.stop(timeout=5000)
    broker.close()


def test_a_failing_item_counts_its_attempts_retries_and_outcome(
    world: World, publisher: DramatiqWorkPublisher, sim: RunningSimulator
) -> None:
    sim.set_faults("itportal", error_5xx_rate=1.0)
    before = {
        "failed": value(
            "syncbucket_items_processed_total",
            **ITEM,
            outcome="failed",
            error_code="portal_server_error",
        ),
        "retries": value(
            "syncbucket_retries_total", portal="itportal", reason="portal_server_error"
        ),
        "attempts": value("syncbucket_item_duration_seconds_count", **ITEM),
        "applied": value("syncbucket_outcomes_applied_total", result="applied"),
    }
    client_id, _ = world.add_client()
    run_id, _ = world.start_run([client_id], [ModuleKey.FETCH_CHALLANS], publisher)
    # The aggregator counts an applied outcome just AFTER its transaction commits, so the
    # run can be seen complete a moment before the counter moves: wait for both.
    deadline = time.monotonic() + 15
    while (
        world.run(run_id).completed_at is None
        or value("syncbucket_outcomes_applied_total", result="applied") == before["applied"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    after = {
        "failed": value(
            "syncbucket_items_processed_total",
            **ITEM,
            outcome="failed",
            error_code="portal_server_error",
        ),
        "retries": value(
            "syncbucket_retries_total", portal="itportal", reason="portal_server_error"
        ),
        "attempts": value("syncbucket_item_duration_seconds_count", **ITEM),
        "applied": value("syncbucket_outcomes_applied_total", result="applied"),
    }
    # max_attempts=3 in these tests: three attempts, two retries, one failed outcome.
    assert {k: after[k] - before[k] for k in before} == {
        "failed": 1,
        "retries": 2,
        "attempts": 3,
        "applied": 1,
    }


def test_client_tans_are_looked_up_once_and_never_fail(world: World, deps: WorkDeps) -> None:
    client_id, tan = world.add_client()
    tans = ClientTans(deps.sessions, size=1)
    assert tans.get(client_id) == tan
    assert tans.get(client_id) == tan
    assert tans.get(10**9) is None

    def broken() -> None:
        raise RuntimeError("database down")

    assert ClientTans(broken).get(client_id) is None  # type: ignore[arg-type]
