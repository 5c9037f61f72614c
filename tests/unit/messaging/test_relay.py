"""The outbox relay: pending rows -> CloudEvents, marked sent only once confirmed."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pytest
import sqlalchemy as sa

from syncbucket.db.base import utcnow
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.messaging.publishers import EventPublishFailed, MemoryEventPublisher
from syncbucket.messaging.relay import OutboxRelay
from syncbucket.pipeline import events, outbox


def add_events(sessions: SessionFactory, count: int) -> list[str]:
    with unit_of_work(sessions) as session:
        rows = [
            outbox.write_event(
                session,
                events.RUN_COMPLETED_TYPE,
                events.RUN_COMPLETED_ROUTING_KEY,
                {"run_id": n, "firm_id": 1},
                utcnow(),
            )
            for n in range(count)
        ]
        return [row.event_id for row in rows]


def unsent(sessions: SessionFactory) -> int:
    query = sa.select(sa.func.count()).where(OutboxEvent.sent_at.is_(None))
    with sessions() as session:
        return int(session.execute(query).scalar_one())


class FlakyPublisher(MemoryEventPublisher):
    """Refuses every publish after the first ``ok`` ones."""

    def __init__(self, ok: int) -> None:
        super().__init__()
        self.ok = ok

    def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
        if len(self.events) >= self.ok:
            raise EventPublishFailed("nacked")
        super().publish(routing_key, event)


def test_relay_publishes_cloud_events_and_marks_them_sent(session_factory: SessionFactory) -> None:
    ids = add_events(session_factory, 3)
    publisher = MemoryEventPublisher()
    assert OutboxRelay(session_factory, publisher).drain() == 3
    assert [key for key, _ in publisher.events] == ["run.completed"] * 3
    assert [event["id"] for _, event in publisher.events] == ids
    event = publisher.events[0][1]
    assert (event["specversion"], event["type"]) == ("1.0", "syncbucket.run.completed")
    assert unsent(session_factory) == 0
    assert OutboxRelay(session_factory, publisher).drain() == 0  # nothing twice


def test_a_failed_publish_leaves_the_rest_for_the_next_pass(
    session_factory: SessionFactory,
) -> None:
    ids = add_events(session_factory, 3)
    flaky = FlakyPublisher(ok=1)
    with pytest.raises(EventPublishFailed):
        OutboxRelay(session_factory, flaky).run_once()
    assert unsent(session_factory) == 2  # the confirmed one is marked
    steady = MemoryEventPublisher()
    assert OutboxRelay(session_factory, steady).drain() == 2
    assert [event["id"] for _, event in steady.events] == ids[1:]  # same ids: dedupable


def test_the_relay_thread_runs_and_stops(session_factory: SessionFactory) -> None:
    publisher = MemoryEventPublisher()
    relay = OutboxRelay(session_factory, publisher, interval_seconds=0.02)
    relay.start()
    try:
        add_events(session_factory, 2)
        for _ in range(200):
            if len(publisher.events) == 2:
                break
            relay._stop.wait(0.02)
    finally:
        relay.stop()
    assert len(publisher.events) == 2


def test_a_stop_that_timed_out_keeps_start_from_running_a_second_relay(
    session_factory: SessionFactory,
) -> None:
    class Stuck(MemoryEventPublisher):
        def __init__(self) -> None:
            super().__init__()
            self.entered = threading.Event()
            self.release = threading.Event()

        def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
            self.entered.set()
            self.release.wait(5)
            super().publish(routing_key, event)

    add_events(session_factory, 1)
    publisher = Stuck()
    relay = OutboxRelay(session_factory, publisher, interval_seconds=0.02)
    relay.start()
    try:
        assert publisher.entered.wait(5)
        relay.stop(timeout=0.05)  # the thread is still publishing
        with pytest.raises(RuntimeError, match="already running"):
            relay.start()
    finally:
        publisher.release.set()
        relay.stop()
    relay.start()  # stopped for real: may start again
    relay.stop()
    assert len(publisher.events) == 1


def test_relays_never_share_a_claimed_batch(session_factory: SessionFactory) -> None:
    add_events(session_factory, 3)
    first = OutboxRelay(session_factory, MemoryEventPublisher())
    assert len(first._read()) == 3  # claimed, not yet published (as mid-publish)
    assert OutboxRelay(session_factory, MemoryEventPublisher()).drain() == 0
