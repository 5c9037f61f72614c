"""Work and outcome messages through RabbitMQ into PostgreSQL: duplicates change nothing,
and ``run.completed`` reaches a plain AMQP consumer as one CloudEvent."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pika
import pytest
import sqlalchemy as sa

from syncbucket.db.base import utcnow
from syncbucket.db.items import Item
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_tables import RECORD_MODELS
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.messaging.envelopes import outcome_envelope
from syncbucket.messaging.publishers import RabbitEventPublisher
from syncbucket.messaging.relay import OutboxRelay
from syncbucket.pipeline import events
from syncbucket.pipeline.work import Attempt, process_work
from tests.integration.messaging.conftest import QUEUES, Stack

pytestmark = pytest.mark.integration

M = ModuleKey


def wait_until_done(stack: Stack, run_id: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while stack.world.run(run_id).completed_at is None:
        assert time.monotonic() < deadline, f"run {run_id} did not complete in {timeout} s"
        time.sleep(0.05)


def settle(stack: Stack) -> None:
    """Every queue empty (ready, delayed) and every fetched message processed."""
    for queue in QUEUES:
        stack.broker.join(queue, min_successes=5, idle_time=50, timeout=30_000)
    stack.worker.join()


def record_rows(stack: Stack, run_id: int) -> int:
    total = 0
    with stack.sessions() as session:
        for model in RECORD_MODELS.values():
            query = sa.select(sa.func.count()).select_from(model)
            total += int(session.execute(query).scalar_one())
    return total


def snapshot(stack: Stack, run_id: int) -> dict[str, Any]:
    run = stack.world.run(run_id)
    with stack.sessions() as session:
        items = session.scalars(sa.select(Item).where(Item.run_id == run_id)).all()
        item_counts = sorted(
            (i.id, i.status, i.attempts, i.records_fetched, i.records_new, i.records_changed)
            for i in items
        )
    return {
        "run": (
            run.status,
            run.items_succeeded,
            run.items_failed,
            run.records_new,
            run.records_changed,
        ),
        "items": item_counts,
        "outcomes": stack.world.count(Outcome, run_id),
        "outbox": stack.world.count(OutboxEvent, run_id, event_type=events.RUN_COMPLETED_TYPE),
        "records": record_rows(stack, run_id),
    }


def test_a_redelivered_work_message_changes_no_counts(stack: Stack) -> None:
    client_id, _ = stack.world.add_client()
    run_id, messages = stack.world.start_run(
        [client_id], [M.RETURN_SUMMARY, M.FETCH_CHALLANS], stack.publisher
    )
    stack.publisher.publish(messages)  # every work message delivered twice, at once
    wait_until_done(stack, run_id)
    settle(stack)
    state = snapshot(stack, run_id)
    assert state["run"][:3] == (RunStatus.COMPLETED, 2, 0)
    assert [(s, a) for _, s, a, *_ in state["items"]] == [(ItemStatus.SUCCEEDED, 1)] * 2
    assert (state["outcomes"], state["outbox"]) == (2, 1)
    assert state["run"][3] == sum(row[4] for row in state["items"]) > 0
    stack.publisher.publish(messages)  # and once more, after the run completed
    settle(stack)
    assert snapshot(stack, run_id) == state


def test_a_redelivered_outcome_message_changes_no_counts(stack: Stack) -> None:
    client_id, _ = stack.world.add_client()
    run_id, [message] = stack.world.start_run([client_id], [M.OUTSTANDING_DEMAND])
    outcome = process_work(stack.deps, message, Attempt(1, utcnow()))
    assert outcome.__class__.__name__ == "OutcomeMessage"
    envelope = outcome_envelope(outcome)  # type: ignore[arg-type]
    stack.broker.enqueue(envelope)
    stack.broker.enqueue(envelope)  # the same message again (a redelivery)
    wait_until_done(stack, run_id)
    settle(stack)
    state = snapshot(stack, run_id)
    assert state["run"][:2] == (RunStatus.COMPLETED, 1)
    assert (state["outcomes"], state["outbox"]) == (1, 1)
    stack.broker.enqueue(envelope)
    settle(stack)
    assert snapshot(stack, run_id) == state


def test_run_completed_reaches_a_plain_amqp_consumer_as_one_cloud_event(
    stack: Stack, vhost_url: str
) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(vhost_url))
    channel = connection.channel()
    channel.exchange_declare(events.EXCHANGE, exchange_type="topic", durable=True)
    queue = f"test.run-completed.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(queue, exclusive=True, auto_delete=True)
    channel.queue_bind(queue, events.EXCHANGE, routing_key=events.RUN_COMPLETED_ROUTING_KEY)
    try:
        client_id, _ = stack.world.add_client()
        run_id, _ = stack.world.start_run([client_id], [M.VERIFY_LDC], stack.publisher)
        wait_until_done(stack, run_id)
        with stack.sessions() as session:
            event_id = session.scalars(
                sa.select(OutboxEvent.event_id).where(
                    OutboxEvent.payload["run_id"].as_integer() == run_id,
                    OutboxEvent.event_type == events.RUN_COMPLETED_TYPE,
                )
            ).one()
        publisher = RabbitEventPublisher(vhost_url)
        relay = OutboxRelay(stack.sessions, publisher)
        relay.drain()
        relay.drain()  # nothing is sent twice
        publisher.close()
        received = _drain(channel, queue, run_id)
        mine = [event for event in received if event[1]["data"]["run_id"] == run_id]
    finally:
        connection.close()
    assert len(mine) == 1
    properties, event = mine[0]
    assert properties.content_type == "application/cloudevents+json"
    assert properties.delivery_mode == 2
    assert (event["id"], event["type"], event["specversion"]) == (
        event_id,
        "syncbucket.run.completed",
        "1.0",
    )
    assert event["data"]["status"] == "completed"
    assert event["subject"] == f"runs/{run_id}"


def _drain(channel: Any, queue: str, run_id: int) -> list[tuple[Any, dict[str, Any]]]:
    """Everything on the queue until the run's event came and 0.5 s passed quietly.

    The relay publishes every pending event of the module's database, ours perhaps
    last: stopping at the first empty read (as this did) raced the broker's routing.
    """
    received: list[tuple[Any, dict[str, Any]]] = []
    deadline = time.monotonic() + 10.0
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            seen = any(event["data"].get("run_id") == run_id for _, event in received)
            if seen and time.monotonic() - quiet_since > 0.5:
                break
            time.sleep(0.05)
            continue
        quiet_since = time.monotonic()
        received.append((properties, json.loads(body)))
    return received
