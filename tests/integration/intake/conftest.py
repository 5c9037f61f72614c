"""A real request consumer (and its outbox relay) on a private vhost and database.

The consumer runs in a thread of the test process exactly as ``syncbucket serve
requests`` wires it (:func:`syncbucket_requests.bootstrap.bootstrap`), so the tests can
read its ``handled`` count and see that it stays alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pika
import pytest
import sqlalchemy as sa
from syncbucket_requests.bootstrap import RequestService, bootstrap

from syncbucket.config import load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory, unit_of_work
from syncbucket.intake import integration_secrets
from syncbucket.intake.publisher import RequestClient
from syncbucket.messaging.broker import with_url_defaults
from syncbucket.pipeline.events import REQUESTS_DEAD_QUEUE, REQUESTS_QUEUE
from tests.support.db import (  # noqa: F401 - the SQLite fixtures serve the docs example test
    TEST_KEY,
    cipher,
    engine,
    scratch_postgres,
    session_factory,
    sqlite_template,
    sqlite_url,
)
from tests.support.pipeline import add_clients, add_firm
from tests.support.services import private_vhost

MAX_BYTES = 8192


@dataclass
class Intake:
    service: RequestService
    sessions: SessionFactory
    broker_url: str
    firm_a: int
    firm_b: int
    secret_a: str
    secret_b: str

    def client(self) -> RequestClient:
        return RequestClient(self.broker_url)

    def channel(self) -> pika.adapters.blocking_connection.BlockingChannel:
        connection = pika.BlockingConnection(pika.URLParameters(with_url_defaults(self.broker_url)))
        return connection.channel()


@pytest.fixture(scope="module")
def intake(postgres_server_url: str, amqp_url: str) -> Iterator[Intake]:
    with scratch_postgres(postgres_server_url) as db_url, private_vhost(amqp_url) as vhost:
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = make_session_factory(engine)
        cipher = CredentialCipher(TEST_KEY)
        with unit_of_work(sessions) as session:
            firm_a, firm_b = add_firm(session, "Firm A"), add_firm(session, "Firm B")
            add_clients(session, firm_a, 5)
            add_clients(session, firm_b, 2, start=100)
            grace = timedelta(hours=1)
            secret_a = integration_secrets.issue(session, cipher, firm_a, utcnow(), grace=grace)
            secret_b = integration_secrets.issue(session, cipher, firm_b, utcnow(), grace=grace)
        settings = load_settings(
            database_url=db_url,
            broker_url=vhost,
            secret_key=TEST_KEY,
            request_max_bytes=MAX_BYTES,
        )
        service = bootstrap(settings)
        service.relay._interval = 0.05  # answers out fast: the tests wait on them
        service.start()
        try:
            yield Intake(service, sessions, vhost, firm_a, firm_b, secret_a, secret_b)
        finally:
            service.stop()
            engine.dispose()
            _delete_queues(vhost)


def _delete_queues(url: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(with_url_defaults(url)))
    try:
        channel = connection.channel()
        for queue in (REQUESTS_QUEUE, REQUESTS_DEAD_QUEUE, "practice-manager.syncbucket"):
            channel.queue_delete(queue)
    finally:
        connection.close()


def count_runs(sessions: SessionFactory) -> int:
    from syncbucket.db.runs import Run

    with sessions() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Run)) or 0)
