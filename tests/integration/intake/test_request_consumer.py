"""Sync requests through the real consumer, RabbitMQ and PostgreSQL.

What an upstream system sees: one answer per request on ``syncbucket.events``; the same
request twice is one run; a refusal names its reason, creates nothing and waits in
``syncbucket.requests.dead``; two consumers on one queue still make one run per request.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from syncbucket.db.runs import Run
from syncbucket.intake.publisher import build_request, encode
from syncbucket.pipeline.events import CONTENT_TYPE, REQUESTS_DEAD_QUEUE
from tests.integration.intake.conftest import Intake, count_runs
from tests.support.pipeline import tan_for

pytestmark = [pytest.mark.integration]


def _dead_letters(intake: Intake, wanted: int, timeout: float = 20.0) -> list[tuple[Any, bytes]]:
    channel = intake.channel()
    found: list[tuple[Any, bytes]] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < wanted and time.monotonic() < deadline:
            method, properties, body = channel.basic_get(REQUESTS_DEAD_QUEUE, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            found.append((properties, body))
    finally:
        channel.connection.close()
    return found


def test_a_signed_request_is_accepted_with_its_run(intake: Intake) -> None:
    data = {"clients": {"tans": [tan_for(0), tan_for(1)]}, "modules": ["verify_ldc"]}
    event = build_request(firm_id=intake.firm_a, data=data, secret=intake.secret_a, source="/pm")
    with intake.client() as client:
        client.send(event)
        answer = client.answer(event["id"], timeout=20)
    assert answer["type"] == "syncbucket.sync.accepted"
    assert (answer["correlationid"], answer["firmid"]) == (event["id"], str(intake.firm_a))
    run_id = answer["data"]["run_id"]
    with intake.sessions() as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert (run.source, run.total_items, run.firm_id) == ("event", 2, intake.firm_a)


def test_the_same_request_delivered_twice_makes_one_run(intake: Intake) -> None:
    data = {"clients": "all", "modules": ["outstanding_demand"]}
    event = build_request(firm_id=intake.firm_a, data=data, secret=intake.secret_a)
    before = count_runs(intake.sessions)
    with intake.client() as client:
        client.send(event)
        first = client.answer(event["id"], timeout=20)
        client.send(event)  # a redelivery, or an upstream system that resends
        second = client.answer(event["id"], timeout=20)
    assert first["data"]["run_id"] == second["data"]["run_id"]
    assert first["id"] == second["id"]  # the same answer again: consumers dedupe on id
    assert count_runs(intake.sessions) == before + 1


def test_a_refusal_is_answered_dead_lettered_and_creates_nothing(intake: Intake) -> None:
    before = count_runs(intake.sessions)
    unknown = build_request(
        firm_id=intake.firm_a,
        data={"clients": {"tans": ["ZZZZ99999Z"]}, "modules": "all"},
        secret=intake.secret_a,
    )
    impostor = build_request(  # firm B's secret, claiming to be firm A
        firm_id=intake.firm_a, data={"clients": "all", "modules": "all"}, secret=intake.secret_b
    )
    with intake.client() as client:
        client.send(unknown)
        client.send(impostor)
        answers = [client.answer(e["id"], timeout=20) for e in (unknown, impostor)]
    assert [a["data"]["reason"] for a in answers] == ["unknown_clients", "unauthorised"]
    assert answers[0]["data"]["details"]["unknown_tans"] == ["ZZZZ99999Z"]
    dead = _dead_letters(intake, 2)
    reasons = {p.headers["x-syncbucket-reason"] for p, _ in dead}
    assert reasons == {"unknown_clients", "unauthorised"}
    assert all(intake.secret_a not in json.dumps(p.headers) for p, _ in dead)
    assert {json.loads(body)["id"] for _, body in dead} == {unknown["id"], impostor["id"]}
    assert count_runs(intake.sessions) == before


def test_two_consumers_on_one_queue_make_one_run_per_request(intake: Intake) -> None:
    from syncbucket_requests.consumer import RequestConsumer

    second = RequestConsumer(intake.broker_url, intake.service.consumer._handler, prefetch=4)
    thread = threading.Thread(target=second.run, daemon=True)
    thread.start()
    try:
        key = f"twins-{uuid.uuid4().hex[:6]}"
        data = {"clients": "all", "modules": ["verify_ldc"], "idempotency_key": key}
        events = [
            build_request(firm_id=intake.firm_a, data=data, secret=intake.secret_a)
            for _ in range(20)
        ]
        with intake.client() as client:
            for event in events:
                client.send(event)
            answers = [client.answer(e["id"], timeout=30) for e in events]
    finally:
        second.stop()
        thread.join(10)
    assert second.handled > 0 and intake.service.consumer.handled > 0  # both took some
    assert len({a["data"]["run_id"] for a in answers}) == 1
    with intake.sessions() as session:
        runs = session.scalar(
            sa.select(sa.func.count()).select_from(Run).where(Run.idempotency_key == key)
        )
    assert runs == 1


def test_a_request_over_the_size_limit_is_refused(intake: Intake) -> None:
    tans = [tan_for(n) for n in range(1000)]  # ~13 kB, over the test's 8 kB limit
    event = build_request(
        firm_id=intake.firm_a,
        data={"clients": {"tans": tans}, "modules": "all"},
        secret=intake.secret_a,
    )
    with intake.client() as client:
        client.send_raw(encode(event), CONTENT_TYPE, message_id=event["id"])
        (dead,) = _dead_letters(intake, 1)
    assert dead[0].headers["x-syncbucket-reason"] == "too_large"
