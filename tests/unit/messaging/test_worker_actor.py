"""The actors on a StubBroker with an in-process Worker: every item ends with one outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import dramatiq
import httpx
import pytest
import sqlalchemy as sa
from dramatiq.brokers.stub import StubBroker

from syncbucket.config import Settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.db.items import Item
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.session import SessionFactory
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import ITPORTAL_QUEUE, RESULTS_QUEUE, TRACES_QUEUE, make_broker
from syncbucket.messaging.envelopes import (
    ATTEMPT_OPTION,
    FIRST_ATTEMPT_OPTION,
    MalformedMessage,
    work_envelope,
)
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.messaging.runtime import start_worker
from syncbucket.messaging.worker_actor import OutcomeRecorder, WorkActor, attempt_from
from syncbucket.pipeline.work import WorkDeps
from syncbucket.portalsim.server import RunningSimulator
from tests.support.messaging_world import World

M = ModuleKey
QUEUES = {TRACES_QUEUE, ITPORTAL_QUEUE, RESULTS_QUEUE}


@dataclass
class Pipeline:
    broker: dramatiq.Broker
    worker: dramatiq.Worker
    publisher: DramatiqWorkPublisher


@pytest.fixture
def start() -> Iterator[Callable[[WorkDeps], Pipeline]]:
    running: list[Pipeline] = []

    def _start(deps: WorkDeps) -> Pipeline:
        broker = make_broker(deps.settings)
        handlers = ActorHandlers(
            work=WorkActor(deps, broker), outcome=OutcomeRecorder(deps.sessions)
        )
        declare_actors(
            broker, handlers, item_time_limit_seconds=deps.settings.item_time_limit_seconds
        )
        worker = start_worker(broker, queues=QUEUES, threads=4, idle_timeout_ms=50)
        running.append(Pipeline(broker, worker, DramatiqWorkPublisher(broker)))
        return running[-1]

    yield _start
    for pipeline in running:
        pipeline.worker.stop(timeout=5000)
        pipeline.broker.close()


def wait_until_done(world: World, run_id: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while world.run(run_id).completed_at is None:
        assert time.monotonic() < deadline, f"run {run_id} did not complete in {timeout} s"
        time.sleep(0.02)


def test_items_end_with_outcomes_and_the_run_completes(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline]
) -> None:
    pipeline = start(deps)
    client_id, _ = world.add_client()
    run_id, _ = world.start_run(
        [client_id], [M.RETURN_SUMMARY, M.FETCH_CHALLANS], pipeline.publisher
    )
    wait_until_done(world, run_id)
    run = world.run(run_id)
    assert (run.status, run.items_succeeded, run.total_items) == (RunStatus.COMPLETED, 2, 2)
    assert world.count(Outcome, run_id) == 2
    completed = "syncbucket.run.completed"
    assert world.count(OutboxEvent, event_type=completed) == 1
    # both items brought records the client had never had: one client.changed each
    assert world.count(OutboxEvent, event_type="syncbucket.client.changed") == 2


def test_transient_failures_end_in_one_failed_outcome_with_the_attempt_count(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline], sim: RunningSimulator
) -> None:
    sim.set_faults("itportal", error_5xx_rate=1.0)
    pipeline = start(deps)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.FETCH_CHALLANS], pipeline.publisher)
    wait_until_done(world, run_id)
    item = world.item(message.item_id)
    assert (item.status, item.attempts, item.error_code) == (
        ItemStatus.FAILED,
        3,
        "portal_server_error",
    )
    assert world.run(run_id).status == RunStatus.COMPLETED_WITH_ERRORS


def test_an_html_error_page_instead_of_data_is_retried_not_final(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline], sim: RunningSimulator
) -> None:
    # A gateway page on 200 passes; only a portal that keeps answering it fails the item,
    # after every attempt (docs/portal-simulator.md, html_rate).
    sim.set_faults("itportal", html_rate=1.0)
    pipeline = start(deps)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.FETCH_CHALLANS], pipeline.publisher)
    wait_until_done(world, run_id)
    item = world.item(message.item_id)
    assert (item.status, item.attempts, item.error_code) == (
        ItemStatus.FAILED,
        3,
        "portal_error_page",
    )


def test_maintenance_deferral_does_not_count_an_attempt(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline], sim: RunningSimulator
) -> None:
    sim.set_faults("traces", maintenance=True, maintenance_retry_after_seconds=1)
    pipeline = start(deps)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.RETURN_SUMMARY], pipeline.publisher)
    threading.Timer(0.4, lambda: sim.set_faults("traces", maintenance=False)).start()
    wait_until_done(world, run_id)
    item = world.item(message.item_id)
    assert (item.status, item.attempts) == (ItemStatus.SUCCEEDED, 1)
    assert sim.stats()["portals"]["traces"]["responses"].get("503", 0) >= 1


def _raising(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("a bug, not a portal error")


def test_unexpected_exceptions_still_end_in_a_final_outcome(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline]
) -> None:
    pipeline = start(replace(deps, transport=httpx.MockTransport(_raising)))
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.RETURN_SUMMARY], pipeline.publisher)
    wait_until_done(world, run_id)
    item = world.item(message.item_id)
    assert (item.status, item.error_code, item.attempts) == (ItemStatus.FAILED, "internal_error", 3)
    assert "a bug" not in (item.error_message or "")  # details stay in the worker log


def _slow(request: httpx.Request) -> httpx.Response:
    for _ in range(500):  # Python bytecode between sleeps: the time limit can interrupt it
        time.sleep(0.01)
    return httpx.Response(500)


def test_the_time_limit_ends_in_a_timed_out_outcome(
    world: World,
    deps: WorkDeps,
    settings: Settings,
    start: Callable[[WorkDeps], Pipeline],
) -> None:
    quick = settings.model_copy(update={"item_time_limit_seconds": 0.2, "max_attempts": 1})
    pipeline = start(replace(deps, settings=quick, transport=httpx.MockTransport(_slow)))
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.RETURN_SUMMARY], pipeline.publisher)
    wait_until_done(world, run_id, timeout=10.0)
    item = world.item(message.item_id)
    assert (item.status, item.error_code, item.attempts) == (ItemStatus.FAILED, "timed_out", 1)


def test_concurrent_modules_of_one_client_share_one_login(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline], sim: RunningSimulator
) -> None:
    sim.set_faults("traces", latency_ms_min=20, latency_ms_max=40)
    pipeline = start(deps)  # 4 threads: a client's 4 TRACES modules run side by side
    clients = [world.add_client()[0] for _ in range(3)]
    modules = [M.RETURN_SUMMARY, M.UNCONSUMED_CHALLANS, M.OUTSTANDING_DEMAND, M.VERIFY_LDC]
    run_id, _ = world.start_run(clients, modules, pipeline.publisher)
    wait_until_done(world, run_id)
    assert world.run(run_id).items_succeeded == 12
    assert sim.stats()["portals"]["traces"]["logins"]["attempted"] == 3


def test_malformed_messages_are_dead_lettered_and_the_worker_goes_on(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline]
) -> None:
    pipeline = start(deps)
    bad: dramatiq.Message[None] = dramatiq.Message(
        queue_name=TRACES_QUEUE,
        actor_name="sync_traces_item",
        args=(),
        kwargs={"item_id": "not a number", "password": "s3cret"},
        options={},
    )
    pipeline.broker.enqueue(bad)
    client_id, _ = world.add_client()
    run_id, _ = world.start_run([client_id], [M.RETURN_SUMMARY], pipeline.publisher)
    lost_run, [lost] = world.start_run([client_id], [M.VERIFY_LDC])  # never published ...
    misrouted = work_envelope(lost).copy(queue_name=ITPORTAL_QUEUE)  # ... but misrouted
    pipeline.broker.enqueue(misrouted)
    wait_until_done(world, run_id)
    wait_until_done(world, lost_run)  # failed at once, not reaped much later
    assert world.item(lost.item_id).error_code == "invalid_message"
    broker = pipeline.broker
    assert isinstance(broker, StubBroker)
    broker.join(TRACES_QUEUE, fail_fast=False)
    broker.join(ITPORTAL_QUEUE, fail_fast=False)
    dead = broker.dead_letters
    assert len(dead) == 2
    assert all(isinstance(m._exception, MalformedMessage) for m in dead)
    assert all("s3cret" not in str(m._exception) for m in dead)
    assert world.run(run_id).items_succeeded == 1


def test_a_redelivered_work_message_changes_no_counts(
    world: World, deps: WorkDeps, start: Callable[[WorkDeps], Pipeline], sim: RunningSimulator
) -> None:
    pipeline = start(deps)
    client_id, _ = world.add_client()
    run_id, _ = world.start_run([client_id], [M.RETURN_SUMMARY], pipeline.publisher)
    wait_until_done(world, run_id)
    before = world.run(run_id)
    [item] = _items(deps.sessions, run_id)
    again = WorkMessage(
        item_id=item.id,
        run_id=run_id,
        firm_id=world.firm_id,
        client_id=client_id,
        module=item.module,
        portal=item.portal,
    )
    requests = sim.stats()["portals"]["traces"]["requests"]["total"]
    pipeline.publisher.publish([again, again])
    pipeline.worker.join()
    after = world.run(run_id)
    assert (after.items_succeeded, after.records_new) == (
        before.items_succeeded,
        before.records_new,
    )
    assert world.count(Outcome, run_id) == 1
    assert world.count(OutboxEvent, event_type="syncbucket.run.completed") == 1
    changed = world.count(OutboxEvent, event_type="syncbucket.client.changed")
    assert changed == (1 if before.records_new else 0)  # the replay announced nothing
    assert sim.stats()["portals"]["traces"]["requests"]["total"] == requests  # not re-fetched


def _items(sessions: SessionFactory, run_id: int) -> list[Item]:
    with sessions() as session:
        return list(session.scalars(sa.select(Item).where(Item.run_id == run_id)))


def test_attempt_options_are_read_defensively() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert attempt_from({}, now).number == 1
    assert attempt_from({}, now).first_started_at == now
    later = attempt_from({ATTEMPT_OPTION: 3, FIRST_ATTEMPT_OPTION: 1_700_000_000.5}, now)
    assert later.number == 3
    assert later.first_started_at == datetime.fromtimestamp(1_700_000_000.5, UTC)
    odd = attempt_from({ATTEMPT_OPTION: "3", FIRST_ATTEMPT_OPTION: -1}, now)
    assert (odd.number, odd.first_started_at) == (1, now)


def test_a_process_refuses_what_it_does_not_serve(deps: WorkDeps) -> None:
    broker = make_broker(deps.settings)
    actors = declare_actors(broker, ActorHandlers(outcome=OutcomeRecorder(deps.sessions)))
    assert actors.for_portal(Portal.ITPORTAL).queue_name == ITPORTAL_QUEUE
    with pytest.raises(RuntimeError, match="does not handle work items"):
        actors.sync_traces_item.fn(item_id=1)
