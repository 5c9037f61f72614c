"""The pika loop: take a request, decide it, answer it, dead-letter a refusal, then ack.

The order is what makes "nothing lost, one answer" hold:

1. the handler commits the run and its ``sync.accepted`` answer (or the
   ``sync.rejected`` answer) in the database;
2. a rejected request is copied, as it came, to ``syncbucket.requests.dead`` with
   ``x-syncbucket-reason`` / ``x-syncbucket-message`` headers, with publisher confirms;
3. only then the message is acknowledged.

A crash anywhere before 3 redelivers the request, and deciding it again changes nothing
(the run's idempotency key, the answer's stable id). When the database cannot be
reached the message goes back to the queue (``nack``, requeue) and the consumer waits,
doubling the wait up to :data:`MAX_BACKOFF_SECONDS`: an outage of our own
infrastructure never turns a good request into a rejection. Anything else that goes
wrong with one request (a bug) answers it ``internal_error`` and dead-letters it, so one
poisonous message cannot stall the queue; the copy keeps it for replay. Should even that
answer fail to be written, the request goes back to the queue (never dropped unanswered).
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import pika
import pika.exceptions
import sqlalchemy.exc

from syncbucket.intake.handler import Decision, RequestHandler
from syncbucket.intake.rejections import Reason, RequestRejected
from syncbucket.intake.topology import declare_consumer_side
from syncbucket.messaging.broker import with_url_defaults
from syncbucket.pipeline.events import REQUESTS_DEAD_QUEUE, REQUESTS_QUEUE

log = logging.getLogger("syncbucket.requests")

MAX_BACKOFF_SECONDS = 30.0
INFRASTRUCTURE_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
REASON_HEADER = "x-syncbucket-reason"
MESSAGE_HEADER = "x-syncbucket-message"


class RequestConsumer:
    def __init__(self, broker_url: str, handler: RequestHandler, *, prefetch: int) -> None:
        self._parameters = pika.URLParameters(with_url_defaults(broker_url))
        self._handler = handler
        self._prefetch = prefetch
        self._stop = threading.Event()
        self._backoff = 0.0
        self.handled = 0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Consume until :meth:`stop`; a lost broker link is re-opened with a back-off."""
        while not self._stop.is_set():
            try:
                self._consume()
            except pika.exceptions.AMQPError as exc:
                wait = self._next_backoff()
                log.warning(
                    "RabbitMQ link lost (%s); reconnecting in %.1f s", type(exc).__name__, wait
                )
                self._stop.wait(wait)

    def _consume(self) -> None:
        connection = pika.BlockingConnection(self._parameters)
        try:
            channel = connection.channel()
            channel.confirm_delivery()
            declare_consumer_side(channel)
            channel.basic_qos(prefetch_count=self._prefetch)
            log.info("consuming sync requests from %r", REQUESTS_QUEUE)
            for method, properties, body in channel.consume(REQUESTS_QUEUE, inactivity_timeout=0.5):
                if self._stop.is_set():
                    break
                if method is None:
                    continue
                self._one(channel, method, properties, body)
            channel.cancel()
        finally:
            if connection.is_open:
                connection.close()  # unacknowledged prefetched requests go back to the queue

    def _one(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        try:
            decision = self._decide(body, properties)
        except INFRASTRUCTURE_ERRORS as exc:
            wait = self._next_backoff()
            log.warning(
                "the database cannot be reached (%s): request left on the queue; retry in %.1f s",
                type(exc).__name__,
                wait,
            )
            channel.basic_nack(method.delivery_tag, requeue=True)
            self._stop.wait(wait)
            return
        except Exception:  # not even the rejection could be written: keep the request
            wait = self._next_backoff()
            log.exception("sync request could not be answered; left on the queue")
            channel.basic_nack(method.delivery_tag, requeue=True)
            self._stop.wait(wait)
            return
        if decision.rejection is not None:
            self._dead_letter(channel, body, properties, decision.rejection)
        channel.basic_ack(method.delivery_tag)
        self._backoff = 0.0
        self.handled += 1

    def _decide(self, body: bytes, properties: Any) -> Decision:
        try:
            return self._handler.handle(body, properties.content_type)
        except INFRASTRUCTURE_ERRORS:
            raise
        except Exception:
            incident = uuid.uuid4().hex[:12]
            log.exception("sync request failed unexpectedly (incident %s)", incident)
            rejection = RequestRejected(
                Reason.INTERNAL_ERROR.value,
                f"SyncBucket could not process this request (incident {incident}); it is kept "
                f"in {REQUESTS_DEAD_QUEUE} for an operator",
            )
            return self._handler.reject(rejection, body)

    def _dead_letter(
        self, channel: Any, body: bytes, properties: Any, rejection: RequestRejected
    ) -> None:
        headers = dict(properties.headers or {})
        headers[REASON_HEADER] = rejection.reason
        headers[MESSAGE_HEADER] = rejection.message[:1000]
        copy = pika.BasicProperties(
            content_type=properties.content_type,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=properties.message_id,
            headers=headers,
        )
        channel.basic_publish("", REQUESTS_DEAD_QUEUE, body, copy)

    def _next_backoff(self) -> float:
        self._backoff = min(max(self._backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
        return self._backoff
