"""Publishing with confirms: work messages through Dramatiq, CloudEvents through pika.

- :class:`DramatiqWorkPublisher` is the pipeline's ``WorkPublisher``: one
  ``broker.enqueue`` per message onto its portal's queue. On RabbitMQ with
  ``confirm_delivery=True`` each enqueue returns only once the broker confirmed it, and
  raises (``dramatiq.errors.ConnectionClosed`` after Dramatiq's own reconnect attempts)
  otherwise -- the dispatcher then rolls back and the items stay pending.
- :class:`RabbitEventPublisher` publishes a CloudEvent (structured JSON) as a persistent
  message on the durable topic exchange ``syncbucket.events`` with publisher confirms.
  A nack raises :class:`EventPublishFailed`; a message no queue is bound for is *not* an
  error (nobody subscribed to that event type yet), so ``mandatory`` is off.
- :class:`MemoryEventPublisher` keeps events in a list (embedded footprint, tests).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import dramatiq
import pika
import pika.exceptions

from syncbucket.contracts.messages import WorkMessage
from syncbucket.messaging.broker import PORTAL_QUEUES, with_url_defaults
from syncbucket.messaging.envelopes import work_envelope
from syncbucket.pipeline.events import CONTENT_TYPE, EXCHANGE

log = logging.getLogger(__name__)


class EventPublishFailed(Exception):
    """The broker refused (nacked) an event or could not be reached; retry later."""


class EventPublisher(Protocol):
    def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
        """Return once the broker has the event; raise otherwise."""

    def keepalive(self) -> None:
        """Called between batches: keep an idle connection alive."""

    def close(self) -> None: ...


class DramatiqWorkPublisher:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self._broker = broker
        for queue in PORTAL_QUEUES.values():
            broker.declare_queue(queue)  # the stub broker refuses undeclared queues

    def publish(self, messages: Sequence[WorkMessage]) -> None:
        for message in messages:
            self._broker.enqueue(work_envelope(message))


class MemoryEventPublisher:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
        with self._lock:
            self._events.append((routing_key, dict(event)))

    @property
    def events(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self._events)

    def keepalive(self) -> None:
        pass

    def close(self) -> None:
        pass


class RabbitEventPublisher:
    """One pika connection (opened lazily, reopened once after a lost link); thread-safe."""

    def __init__(self, url: str, exchange: str = EXCHANGE) -> None:
        self._parameters = pika.URLParameters(with_url_defaults(url))
        self._exchange = exchange
        self._lock = threading.Lock()
        self._connection: Any = None
        self._channel: Any = None

    def __repr__(self) -> str:  # the URL may carry a password
        return f"RabbitEventPublisher(exchange={self._exchange!r})"

    def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        properties = pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=str(event.get("id", "")),
            type=str(event.get("type", "")),
        )
        with self._lock:
            self._publish_locked(routing_key, body, properties)

    def _publish_locked(self, routing_key: str, body: bytes, properties: Any) -> None:
        for retry in (False, True):
            try:
                self._open().basic_publish(
                    self._exchange, routing_key, body, properties, mandatory=False
                )
                return
            except pika.exceptions.NackError as exc:
                raise EventPublishFailed(f"RabbitMQ refused event {properties.message_id}") from exc
            except pika.exceptions.AMQPError as exc:
                self._reset()
                if retry:
                    raise EventPublishFailed(
                        f"could not publish event {properties.message_id} to RabbitMQ "
                        f"({type(exc).__name__})"
                    ) from exc
                log.info("event publisher lost its RabbitMQ link (%s); reconnecting", exc)

    def _open(self) -> Any:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self._reset()
        self._connection = pika.BlockingConnection(self._parameters)
        channel = self._connection.channel()
        channel.confirm_delivery()
        channel.exchange_declare(self._exchange, exchange_type="topic", durable=True)
        self._channel = channel
        return channel

    def keepalive(self) -> None:
        """Serve heartbeats on an idle connection (the relay calls this between batches)."""
        with self._lock:
            if self._connection is not None and self._connection.is_open:
                try:
                    self._connection.process_data_events(time_limit=0)
                except pika.exceptions.AMQPError:
                    self._reset()

    def close(self) -> None:
        with self._lock:
            self._reset()

    def _reset(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                connection.close()
