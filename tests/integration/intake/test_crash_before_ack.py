"""A consumer that dies after committing a request's run but before acking it: RabbitMQ
redelivers the request, and deciding it again makes no second run and no second answer."""

from __future__ import annotations

import threading
import time
from typing import Any

import pika.exceptions
import pytest
import sqlalchemy as sa
from syncbucket_requests.consumer import RequestConsumer

from syncbucket.crypto import CredentialCipher
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.runs import Run
from syncbucket.intake.handler import RequestHandler
from syncbucket.intake.publisher import RequestClient, build_request
from syncbucket.pipeline import events
from tests.integration.intake.conftest import Intake
from tests.support.db import TEST_KEY
from tests.support.services import private_vhost

pytestmark = [pytest.mark.integration]


class DiesBeforeTheFirstAck(RequestConsumer):
    """Decides (and commits) the first request, then loses its link before the ack."""

    died = False

    def _one(self, channel: Any, method: Any, properties: Any, body: bytes) -> None:
        if not self.died:
            self.died = True
            self._decide(body, properties)
            raise pika.exceptions.AMQPConnectionError("simulated crash before the ack")
        super()._one(channel, method, properties, body)


def test_a_request_committed_but_not_acked_is_redelivered_and_makes_one_run(
    intake: Intake, amqp_url: str
) -> None:
    handler = RequestHandler(intake.sessions, CredentialCipher(TEST_KEY), max_bytes=100_000)
    with private_vhost(amqp_url) as vhost:
        consumer = DiesBeforeTheFirstAck(vhost, handler, prefetch=1)
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        key = "crash-before-ack"
        data = {"clients": "all", "modules": ["verify_ldc"], "idempotency_key": key}
        request = build_request(firm_id=intake.firm_a, data=data, secret=intake.secret_a)
        try:
            with RequestClient(vhost) as client:
                client.send(request)
            deadline = time.monotonic() + 30
            while consumer.handled < 1:  # the redelivery, decided and acked
                assert time.monotonic() < deadline, "the request was not redelivered"
                time.sleep(0.05)
        finally:
            consumer.stop()
            thread.join(10)
    assert consumer.died
    with intake.sessions() as session:
        runs = session.scalar(
            sa.select(sa.func.count()).select_from(Run).where(Run.idempotency_key == key)
        )
        answers = session.scalars(
            sa.select(OutboxEvent).where(
                OutboxEvent.event_type == events.SYNC_ACCEPTED.type,
                OutboxEvent.payload["request_id"].as_string() == request["id"],
            )
        ).all()
    assert runs == 1
    assert len(answers) == 1  # the same answer row, queued again for the relay
