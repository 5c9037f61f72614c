"""Real RabbitMQ + PostgreSQL + the in-process simulator, with a real Dramatiq Worker.

Queue isolation: Dramatiq's queue names are fixed (``portal.traces``, ``results``...), so
a stack running against the same vhost would steal the tests' messages (measured: it
does). When ``rabbitmqctl`` is at hand (a local server), the tests get a throwaway vhost
of their own; otherwise (e.g. a testcontainers server, which nothing else uses) they use
the URL's vhost and refuse to run while anything else consumes those queues. Either way
the queues (with their delay and dead-letter queues) are purged before and after a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import dramatiq
import pika
import pytest
import sqlalchemy as sa
from dramatiq.brokers.rabbitmq import RabbitmqBroker

from syncbucket.config import Settings, load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import ITPORTAL_QUEUE, RESULTS_QUEUE, TRACES_QUEUE, make_broker
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.messaging.runtime import start_worker
from syncbucket.messaging.worker_actor import OutcomeRecorder, WorkActor
from syncbucket.pipeline.work import WorkDeps
from syncbucket.portalsim.server import RunningSimulator, start_simulator
from tests.support.db import TEST_KEY, scratch_postgres
from tests.support.messaging_world import World
from tests.support.services import private_vhost

QUEUES = (TRACES_QUEUE, ITPORTAL_QUEUE, RESULTS_QUEUE)


@dataclass
class Stack:
    settings: Settings
    sessions: SessionFactory
    broker: RabbitmqBroker
    worker: dramatiq.Worker
    publisher: DramatiqWorkPublisher
    deps: WorkDeps
    world: World


@pytest.fixture(scope="module")
def migrated_url(postgres_server_url: str) -> Iterator[str]:
    """A database of the module's own: the session's e2e stack (still running on the shared
    session database) would otherwise release these tests' items to its own workers."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def engine(migrated_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator() as sim:
        yield sim


@pytest.fixture(scope="module")
def vhost_url(amqp_url: str) -> Iterator[str]:
    """A throwaway vhost when ``rabbitmqctl`` can make one, else ``amqp_url`` itself."""
    with private_vhost(amqp_url) as url:
        yield url


@pytest.fixture
def settings(migrated_url: str, vhost_url: str, simulator: RunningSimulator) -> Settings:
    simulator.reset()
    return load_settings(
        database_url=migrated_url,
        broker_url=vhost_url,
        secret_key=TEST_KEY,
        traces_base_url=simulator.traces_url,
        itportal_base_url=simulator.itportal_url,
        retry_min_backoff_seconds=0.05,
        retry_max_backoff_seconds=0.2,
    )


def other_consumers(amqp_url: str) -> dict[str, int]:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    found: dict[str, int] = {}
    try:
        for queue in QUEUES:
            channel = connection.channel()
            try:
                reply = channel.queue_declare(queue, passive=True)
                found[queue] = reply.method.consumer_count
            except pika.exceptions.ChannelClosedByBroker:
                found[queue] = 0  # does not exist yet
    finally:
        connection.close()
    return {queue: count for queue, count in found.items() if count}


def purge(broker: RabbitmqBroker) -> None:
    for queue in QUEUES:
        broker.flush(queue)


@pytest.fixture
def stack(settings: Settings, engine: sa.Engine, vhost_url: str) -> Iterator[Stack]:
    busy = other_consumers(vhost_url)
    if busy:
        pytest.fail(f"other consumers are attached to {busy}: stop the running stack first")
    sessions = make_session_factory(engine)
    cipher = CredentialCipher(TEST_KEY)
    broker = make_broker(settings)
    assert isinstance(broker, RabbitmqBroker)
    deps = WorkDeps(settings=settings, sessions=sessions, cipher=cipher)
    handlers = ActorHandlers(work=WorkActor(deps, broker), outcome=OutcomeRecorder(sessions))
    declare_actors(broker, handlers, item_time_limit_seconds=settings.item_time_limit_seconds)
    purge(broker)
    worker = start_worker(broker, queues=set(QUEUES), threads=4, idle_timeout_ms=100)
    world = World.create(sessions, cipher)
    try:
        yield Stack(settings, sessions, broker, worker, DramatiqWorkPublisher(broker), deps, world)
    finally:
        worker.stop(timeout=10_000)
        purge(broker)
        broker.close()
