"""The reference publisher: a sync request built, signed and sent as an upstream system
would, then its answer (and, if asked, the run's ``run.completed``) read back.

``syncbucket requests send`` is this module with a command line; the example in
docs/events.md and the tests use it too, so the documented path is the tested one.
An upstream system in another language does the same four things: build the CloudEvent,
sign it (:mod:`.signing`), publish it persistent to ``syncbucket.requests`` with routing
key ``sync.requested``, and listen on ``syncbucket.events`` for the answer whose
``correlationid`` is the request's ``id``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pika

from syncbucket.intake.answers import CORRELATION_ATTRIBUTE
from syncbucket.intake.signing import FIRM_ATTRIBUTE, sign
from syncbucket.intake.topology import declare_consumer_side
from syncbucket.messaging.broker import with_url_defaults
from syncbucket.pipeline.events import (
    CONTENT_TYPE,
    EXCHANGE,
    REQUESTS_EXCHANGE,
    RUN_COMPLETED,
    SPEC_VERSION,
    SYNC_ACCEPTED,
    SYNC_REJECTED,
    SYNC_REQUESTED_ROUTING_KEY,
    SYNC_REQUESTED_TYPE,
)

DEFAULT_SOURCE = "/syncbucket/cli"


class AnswerTimeout(Exception):
    """No answer (or no run.completed) arrived in time."""


def build_request(
    *,
    firm_id: int,
    data: dict[str, Any],
    secret: str,
    source: str = DEFAULT_SOURCE,
    event_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A signed ``syncbucket.sync.requested`` CloudEvent (structured mode, a dict)."""
    event = {
        "specversion": SPEC_VERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": SYNC_REQUESTED_TYPE,
        "time": (now or datetime.now(UTC)).isoformat(),
        "datacontenttype": "application/json",
        FIRM_ATTRIBUTE: str(firm_id),
        "data": data,
    }
    return sign(event, secret)


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class RequestClient:
    """One pika connection: publish requests with confirms, read the answers back.

    The answer queue is exclusive and bound BEFORE anything is published, so no answer
    can slip past it.
    """

    def __init__(self, broker_url: str) -> None:
        self._connection = pika.BlockingConnection(
            pika.URLParameters(with_url_defaults(broker_url))
        )
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()
        # The requests queue too: a request sent before any consumer ever ran waits there.
        declare_consumer_side(self._channel)
        declared = self._channel.queue_declare("", exclusive=True, auto_delete=True)
        self._queue = declared.method.queue
        for kind in (SYNC_ACCEPTED, SYNC_REJECTED, RUN_COMPLETED):
            self._channel.queue_bind(self._queue, EXCHANGE, routing_key=kind.routing_key)
        self._seen: list[dict[str, Any]] = []
        self._consumer: Any = None

    def __enter__(self) -> RequestClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def send(self, event: dict[str, Any]) -> None:
        self.send_raw(encode(event), CONTENT_TYPE, message_id=str(event.get("id", "")))

    def send_raw(self, body: bytes, content_type: str | None, *, message_id: str = "") -> None:
        """Publish bytes as they are (the tests send malformed requests this way)."""
        properties = pika.BasicProperties(
            content_type=content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=message_id or None,
        )
        self._channel.basic_publish(
            REQUESTS_EXCHANGE, SYNC_REQUESTED_ROUTING_KEY, body, properties, mandatory=True
        )

    def answer(self, request_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The ``sync.accepted`` or ``sync.rejected`` event answering ``request_id``."""
        return self._wait(
            lambda e: (
                e.get(CORRELATION_ATTRIBUTE) == request_id
                and e.get("type") in (SYNC_ACCEPTED.type, SYNC_REJECTED.type)
            ),
            timeout,
            f"no answer to request {request_id} within {timeout:g} s",
        )

    def completed(self, run_id: int, timeout: float = 600.0) -> dict[str, Any]:
        """The run's ``run.completed`` event."""
        return self._wait(
            lambda e: (
                e.get("type") == RUN_COMPLETED.type
                and (e.get("data") or {}).get("run_id") == run_id
            ),
            timeout,
            f"run {run_id} did not complete within {timeout:g} s",
        )

    def _wait(self, wanted: Any, timeout: float, message: str) -> dict[str, Any]:
        for event in self._seen:
            if wanted(event):
                self._seen.remove(event)
                return event
        if self._consumer is None:
            self._consumer = self._channel.consume(self._queue, inactivity_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, _properties, body = next(self._consumer)
            if method is None:
                continue
            self._channel.basic_ack(method.delivery_tag)
            event = json.loads(body)
            if wanted(event):
                return dict(event)
            self._seen.append(event)
        raise AnswerTimeout(message)

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()
