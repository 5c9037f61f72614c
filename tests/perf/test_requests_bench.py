"""Sync requests through the real consumer process (``make bench``); one ``BENCH`` line each.

The consumer (``python -m syncbucket_requests``) on its own PostgreSQL database and vhost
takes N signed requests (one client x one module each, distinct ids) and the time runs
from the first publish to the last ``sync.accepted`` answer committed. The baseline is a
bare pika loop in the same run: the same N bodies published with confirms to a queue and
consumed with one ack each -- the cost of RabbitMQ alone. The consumer's CPU time per
request (``/proc/<pid>/stat``) is printed too: it holds on a loaded machine, wall time
does not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pika
import pytest
import sqlalchemy as sa

from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.intake import integration_secrets
from syncbucket.intake.publisher import RequestClient, build_request, encode
from syncbucket.pipeline import events
from tests.e2e.processes import environ, free_port, stack_env
from tests.support.db import TEST_KEY, scratch_postgres
from tests.support.pipeline import add_clients, add_firm, tan_for
from tests.support.services import private_vhost

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

REQUESTS = 500
CLIENTS = 50
TICKS = os.sysconf("SC_CLK_TCK")


def bench(name: str, value: float, unit: str, **extra: object) -> None:
    print("BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}))


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def bare_pika_loop(url: str, bodies: list[bytes]) -> float:
    """Messages/s of publish-with-confirms -> consume-with-ack on the same broker."""
    params = pika.URLParameters(url)
    queue = "syncbucket.bench.bare"
    done = threading.Event()
    ready = threading.Event()

    def consume() -> None:
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.queue_declare(queue, durable=True)
        channel.basic_qos(prefetch_count=16)
        ready.set()
        for seen, (method, _props, _body) in enumerate(channel.consume(queue), start=1):
            channel.basic_ack(method.delivery_tag)
            if seen == len(bodies):
                break
        channel.cancel()
        channel.queue_delete(queue)
        connection.close()
        done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    ready.wait(10)
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.confirm_delivery()
    started = time.perf_counter()
    for body in bodies:
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))
    assert done.wait(120), "the bare consumer did not finish"
    seconds = time.perf_counter() - started
    connection.close()
    return len(bodies) / seconds


def test_requests_accepted_per_second_vs_a_bare_pika_loop(
    postgres_server_url: str, amqp_url: str
) -> None:
    with scratch_postgres(postgres_server_url) as db_url, private_vhost(amqp_url) as vhost:
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = make_session_factory(engine)
        with unit_of_work(sessions) as session:
            firm_id = add_firm(session, "Bench")
            add_clients(session, firm_id, CLIENTS)
            secret = integration_secrets.issue(
                session, CredentialCipher(TEST_KEY), firm_id, utcnow(), grace=timedelta(0)
            )
        env = stack_env(
            {**environ(), "SYNCBUCKET_SECRET_KEY": TEST_KEY},
            database_url=db_url,
            broker_url=vhost,
            requests_metrics_port=free_port(),
            log_level="WARNING",
        )
        consumer = subprocess.Popen([sys.executable, "-m", "syncbucket_requests"], env=env)
        try:
            requests = [
                build_request(
                    firm_id=firm_id,
                    data={"clients": {"tans": [tan_for(n % CLIENTS)]}, "modules": ["verify_ldc"]},
                    secret=secret,
                )
                for n in range(REQUESTS)
            ]
            with RequestClient(vhost) as client:  # declares the queue; the warm-up request
                warm = build_request(
                    firm_id=firm_id, data={"clients": "all", "modules": "all"}, secret=secret
                )
                client.send(warm)
                client.answer(warm["id"], timeout=60)
                cpu_before = cpu_seconds(consumer.pid)
                started = time.perf_counter()
                for event in requests:
                    client.send(event)
                accepted = _wait_accepted(sessions, REQUESTS + 1, timeout=300)
                seconds = time.perf_counter() - started
                cpu = cpu_seconds(consumer.pid) - cpu_before
        finally:
            consumer.terminate()
            consumer.wait(30)
            engine.dispose()
        assert accepted == REQUESTS + 1
        bare = bare_pika_loop(vhost, [encode(e) for e in requests])
    through = REQUESTS / seconds
    bench("requests_accepted_per_second", through, "requests/s", requests=REQUESTS)
    bench("bare_pika_publish_consume_per_second", bare, "messages/s", messages=REQUESTS)
    bench("requests_to_bare_pika_ratio", through / bare, "ratio")
    bench("request_consumer_cpu_ms_per_request", 1000 * cpu / REQUESTS, "ms CPU/request")


def _wait_accepted(
    sessions: sa.orm.sessionmaker[sa.orm.Session], wanted: int, timeout: float
) -> int:
    deadline = time.monotonic() + timeout
    query = sa.select(sa.func.count()).where(OutboxEvent.event_type == events.SYNC_ACCEPTED.type)
    while True:
        with sessions() as session:
            count = int(session.scalar(query) or 0)
        if count >= wanted or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
