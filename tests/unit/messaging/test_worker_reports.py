"""What the work actor leaves behind: a reported item the reaper spares, a cancelled
retry, and a failed outcome for a work message it cannot run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.db.base import utcnow
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import RESULTS_QUEUE, make_broker
from syncbucket.messaging.envelopes import MalformedMessage
from syncbucket.messaging.worker_actor import (
    INVALID_MESSAGE,
    OutcomeRecorder,
    WorkActor,
    invalid_message_outcome,
)
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.retry_policy import RetryDecision
from syncbucket.pipeline.runs import cancel_run
from syncbucket.pipeline.work import (
    NotRunnable,
    WorkDeps,
    process_work,
    reported_grace_seconds,
)
from syncbucket.portalsim.server import RunningSimulator
from tests.support.messaging_world import World
from tests.unit.messaging.test_work import first

M = ModuleKey


def stub_broker(deps: WorkDeps) -> StubBroker:
    """The actors declared on a StubBroker, with no worker: results stay queued."""
    broker = make_broker(deps.settings)
    assert isinstance(broker, StubBroker)
    declare_actors(broker, ActorHandlers(work=WorkActor(deps, broker)))
    return broker


def queued_outcomes(broker: StubBroker) -> list[dict[str, Any]]:
    queue = broker.queues[RESULTS_QUEUE]
    messages = [dramatiq.Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
    return [message.kwargs for message in messages]


def apply_all(deps: WorkDeps, outcomes: list[dict[str, Any]]) -> None:
    recorder = OutcomeRecorder(deps.sessions)
    for kwargs in outcomes:
        recorder(kwargs)


def test_an_item_whose_outcome_waits_for_the_aggregator_is_not_reaped(
    world: World, deps: WorkDeps
) -> None:
    broker = stub_broker(deps)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    before = utcnow()
    WorkActor(deps, broker)(message.model_dump())
    item = world.item(message.item_id)
    assert item.status == ItemStatus.RUNNING and item.deadline_at is not None
    assert item.started_at is not None
    assert item.deadline_at >= before + timedelta(seconds=reported_grace_seconds(deps.settings))
    original = item.started_at + timedelta(seconds=deps.settings.item_running_timeout_seconds)
    report = reap(deps.sessions, None, original + timedelta(minutes=5), deps.settings)
    assert (report.released, report.failed) == (0, 0)
    assert world.item(message.item_id).status == ItemStatus.RUNNING
    apply_all(deps, queued_outcomes(broker))  # the aggregator catches up
    assert world.item(message.item_id).status == ItemStatus.SUCCEEDED
    assert world.run(run_id).status == RunStatus.COMPLETED


def test_a_reported_item_is_still_reaped_once_the_grace_is_over(
    world: World, deps: WorkDeps
) -> None:
    broker = stub_broker(deps)
    client_id, _ = world.add_client()
    _, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    WorkActor(deps, broker)(message.model_dump())
    later = utcnow() + timedelta(seconds=reported_grace_seconds(deps.settings) + 60)
    assert reap(deps.sessions, None, later, deps.settings).released == 1  # the safety net


def test_cancel_stops_a_retry_waiting_in_the_broker(
    world: World, deps: WorkDeps, sim: RunningSimulator
) -> None:
    sim.set_faults("itportal", error_5xx_rate=1.0)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.FETCH_CHALLANS])
    assert isinstance(process_work(deps, message, first(message)), RetryDecision)
    assert world.item(message.item_id).status == ItemStatus.QUEUED  # the retry waits
    with unit_of_work(deps.sessions) as session:
        cancel_run(session, world.firm_id, run_id, utcnow())
    assert world.run(run_id).completed_at is None  # the queued item is still open
    requests = sim.stats()["portals"]["itportal"]["requests"]["total"]
    assert isinstance(process_work(deps, message, first(message, number=2)), NotRunnable)
    assert sim.stats()["portals"]["itportal"]["requests"]["total"] == requests
    item, run = world.item(message.item_id), world.run(run_id)
    assert item.status == ItemStatus.CANCELLED and item.deadline_at is None
    assert (run.status, run.items_cancelled, run.total_items) == (RunStatus.CANCELLED, 1, 1)
    assert run.completed_at is not None


@pytest.mark.parametrize(
    "change",
    [{"module": "no_such_module"}, {"portal": "no_such_portal"}, {"v": 2}],
)
def test_a_work_message_that_names_its_item_fails_it_as_invalid_message(
    world: World, deps: WorkDeps, change: dict[str, Any]
) -> None:
    broker = stub_broker(deps)
    client_id, _ = world.add_client()
    run_id, [message] = world.start_run([client_id], [M.RETURN_SUMMARY])
    with pytest.raises(MalformedMessage):  # still dead-lettered
        WorkActor(deps, broker)({**message.model_dump(), **change})
    apply_all(deps, queued_outcomes(broker))
    item = world.item(message.item_id)
    assert (item.status, item.error_code) == (ItemStatus.FAILED, INVALID_MESSAGE)
    assert "same SyncBucket version" in (item.error_message or "")
    assert world.run(run_id).status == RunStatus.COMPLETED_WITH_ERRORS


def test_a_message_on_the_wrong_queue_names_the_queue_and_an_unnamed_item_sends_nothing(
    deps: WorkDeps,
) -> None:
    work = WorkMessage(item_id=5, run_id=2, firm_id=1, client_id=1, module="x", portal="traces")
    problem = MalformedMessage("item 5 is for traces but was sent to queue portal.itportal")
    outcome = invalid_message_outcome(work.model_dump(), "portal.itportal", problem)
    assert isinstance(outcome, OutcomeMessage)
    assert (outcome.item_id, outcome.run_id, outcome.status) == (5, 2, "failed")
    assert "portal.itportal workers" in (outcome.error_message or "")
    assert invalid_message_outcome({"item_id": "x", "password": "s3cret"}, None, problem) is None
    broker = stub_broker(deps)
    with pytest.raises(MalformedMessage):
        WorkActor(deps, broker)({"item_id": "not a number", "password": "s3cret"})
    assert queued_outcomes(broker) == []
