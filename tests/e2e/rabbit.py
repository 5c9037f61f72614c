"""RabbitMQ for end-to-end tests: purge the pipeline's queues, tap the events exchange."""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

import pika
import pika.exceptions

from syncbucket.messaging.broker import ITPORTAL_QUEUE, RESULTS_QUEUE, TRACES_QUEUE
from syncbucket.pipeline.events import EXCHANGE

PIPELINE_QUEUES = (TRACES_QUEUE, ITPORTAL_QUEUE, RESULTS_QUEUE)


def purge_queues(url: str, names: list[str]) -> None:
    """Empty the queues named, where they exist."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for name in names:
            channel = connection.channel()
            with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
                channel.queue_purge(name)  # a missing queue closes the channel: nothing to do
                channel.close()
    finally:
        connection.close()


def purge_queue(url: str, name: str) -> None:
    purge_queues(url, [name])


def purge_pipeline_queues(url: str) -> None:
    """Empty the work and result queues and their delay queues."""
    purge_queues(url, [n for base in PIPELINE_QUEUES for n in (base, f"{base}.DQ")])


class EventTap:
    """A plain pika consumer on a private queue bound to ``syncbucket.events`` (all keys)."""

    def __init__(self, url: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._url = url
        self._connection: Any = None
        self._channel: Any = None
        self._thread = threading.Thread(target=self._run, name="event-tap", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the event consumer could not start")

    def _run(self) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(self._url))
        channel = self._connection.channel()
        channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        queue = channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        channel.queue_bind(queue, EXCHANGE, routing_key="#")
        channel.basic_consume(queue, self._on_message, auto_ack=True)
        self._channel = channel
        self._ready.set()
        channel.start_consuming()
        self._connection.close()

    def _on_message(self, _channel: Any, method: Any, _props: Any, body: bytes) -> None:
        with self._lock:
            self.events.append((method.routing_key, json.loads(body)))

    def of_type(self, event_type: str, run_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [
                event
                for _key, event in self.events
                if event.get("type") == event_type and event["data"].get("run_id") == run_id
            ]

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            self._connection.add_callback_threadsafe(self._channel.stop_consuming)
        self._thread.join(10)
