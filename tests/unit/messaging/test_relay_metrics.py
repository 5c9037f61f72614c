"""The relay counts confirmed and failed publishes, finished runs and the outbox backlog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from syncbucket.db.base import utcnow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.messaging.publishers import EventPublishFailed, MemoryEventPublisher
from syncbucket.messaging.relay import OutboxRelay, observe_published
from syncbucket.pipeline import events, outbox
from tests.unit.messaging.test_relay import FlakyPublisher

TYPE = events.RUN_COMPLETED_TYPE


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def completed_payload(status: str, seconds: float) -> dict[str, object]:
    created = utcnow()
    completed = created + timedelta(seconds=seconds)
    return {
        "status": status,
        "created_at": created.isoformat(),
        "completed_at": completed.isoformat(),
    }


def test_a_run_completed_event_counts_its_run_and_duration() -> None:
    count = ("syncbucket_runs_completed_total", {"status": "completed_with_errors"})
    observed = ("syncbucket_run_duration_seconds_sum", {"status": "completed_with_errors"})
    before = value(count[0], **count[1]), value(observed[0], **observed[1])
    observe_published({"type": TYPE, "data": completed_payload("completed_with_errors", 42.0)})
    observe_published({"type": TYPE, "data": {"status": "completed"}})  # no times: ignored
    assert value(count[0], **count[1]) == before[0] + 1
    assert value(observed[0], **observed[1]) == pytest.approx(before[1] + 42.0)


def test_publishes_and_failures_are_counted_and_the_backlog_gauged(
    session_factory: SessionFactory,
) -> None:
    with unit_of_work(session_factory) as session:
        for n in range(3):
            payload = {"run_id": n, **completed_payload("completed", 1.0)}
            outbox.write_event(session, TYPE, "run.completed", payload, utcnow())
    published = value("syncbucket_events_published_total", type=TYPE)
    failed = value("syncbucket_events_publish_failures_total", type=TYPE)
    relay = OutboxRelay(session_factory, FlakyPublisher(ok=1))
    with pytest.raises(EventPublishFailed):
        relay.run_once()
    relay.observe_backlog()
    assert value("syncbucket_events_published_total", type=TYPE) == published + 1
    assert value("syncbucket_events_publish_failures_total", type=TYPE) == failed + 1
    assert value("syncbucket_outbox_pending_events") == 2
    assert value("syncbucket_outbox_oldest_pending_age_seconds") >= 0
    OutboxRelay(session_factory, MemoryEventPublisher()).drain()
    relay.observe_backlog()
    assert value("syncbucket_outbox_pending_events") == 0
