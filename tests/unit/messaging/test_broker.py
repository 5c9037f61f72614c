"""The broker: explicit middleware, queue names, prefetch, work publishing."""

from __future__ import annotations

import os
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    CurrentMessage,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from syncbucket.config import Settings, load_settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.messaging.broker import (
    PREFETCH_ENV,
    QueuePrefetch,
    make_broker,
    portal_actor,
    portal_queue,
    with_url_defaults,
)
from syncbucket.messaging.envelopes import work_envelope
from syncbucket.messaging.publishers import DramatiqWorkPublisher


def test_without_a_broker_url_the_stub_broker_gets_the_same_middleware(settings: Settings) -> None:
    broker = make_broker(settings)
    assert isinstance(broker, StubBroker)
    kinds = [type(m) for m in broker.middleware]
    assert kinds == [
        AgeLimit,
        TimeLimit,
        ShutdownNotifications,
        Retries,
        CurrentMessage,
        QueuePrefetch,
    ]
    retries = next(m for m in broker.middleware if isinstance(m, Retries))
    assert (retries.max_retries, retries.min_backoff, retries.max_backoff) == (3, 10, 20)


def test_with_a_broker_url_rabbitmq_confirms_deliveries() -> None:
    broker = make_broker(load_settings(broker_url="amqp://guest:guest@127.0.0.1:5672/"))
    assert isinstance(broker, RabbitmqBroker)
    assert broker.confirm_delivery is True
    parameters: Any = broker.parameters
    assert parameters.blocked_connection_timeout == 60


def test_url_defaults_keep_what_the_url_says() -> None:
    url = with_url_defaults("amqp://u:p@h:5672/vh?blocked_connection_timeout=5")
    assert "blocked_connection_timeout=5" in url
    assert "connection_attempts=3" in url
    assert url.startswith("amqp://u:p@h:5672/vh?")


def test_queue_and_actor_names() -> None:
    assert portal_queue("traces") == "portal.traces"
    assert portal_queue("itportal") == "portal.itportal"
    assert portal_actor("itportal") == "sync_itportal_item"
    with pytest.raises(ValueError, match="nope"):
        portal_queue("nope")


def test_prefetch_is_one_message_per_thread(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PREFETCH_ENV, raising=False)
    broker = make_broker(settings)
    worker = dramatiq.Worker(broker, worker_threads=5)
    assert worker.queue_prefetch == 10  # Dramatiq's default: threads x 2
    broker.emit_before("worker_boot", worker)
    assert worker.queue_prefetch == 5


def test_an_explicit_prefetch_setting_wins(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PREFETCH_ENV, "7")
    worker = dramatiq.Worker(make_broker(settings), worker_threads=5)
    before = worker.queue_prefetch
    QueuePrefetch().before_worker_boot(worker.broker, worker)
    assert worker.queue_prefetch == before
    assert os.environ[PREFETCH_ENV] == "7"


def test_the_work_publisher_routes_each_message_to_its_portal_queue(settings: Settings) -> None:
    broker = make_broker(settings)
    publisher = DramatiqWorkPublisher(broker)
    traces = WorkMessage(
        item_id=1, run_id=2, firm_id=3, client_id=4, module="return_summary", portal="traces"
    )
    itportal = traces.model_copy(
        update={"item_id": 5, "module": "fetch_challans", "portal": "itportal"}
    )
    publisher.publish([traces, itportal])
    assert isinstance(broker, StubBroker)
    assert broker.queues["portal.traces"].qsize() == 1
    assert broker.queues["portal.itportal"].qsize() == 1
    envelope = work_envelope(itportal)
    assert (envelope.actor_name, envelope.kwargs["item_id"]) == ("sync_itportal_item", 5)
    assert set(envelope.kwargs) == set(WorkMessage.model_fields)  # ids only, no credentials
