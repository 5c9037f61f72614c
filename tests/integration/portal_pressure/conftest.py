"""Real PostgreSQL (throwaway database), RabbitMQ (throwaway vhost), Redis (a database of
its own), the simulator and the aggregator as real processes, shared by the module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis
import sqlalchemy as sa

from syncbucket.config import Settings, load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.messaging.broker import ITPORTAL_QUEUE, RESULTS_QUEUE, TRACES_QUEUE, make_broker
from tests.integration.messaging.conftest import vhost_url  # noqa: F401 - fixture
from tests.integration.portal_pressure.harness import Dispatcher, aggregator, child_env
from tests.integration.portal_pressure.procs import Proc
from tests.integration.portal_pressure.simproc import SimulatorProcess
from tests.support.db import TEST_KEY, scratch_postgres
from tests.support.messaging_world import World

# A key prefix of this run's own in whatever Redis database the URL names: nothing
# else's keys are read or deleted (docs/architecture.md §13).
REDIS_PREFIX = f"syncbucket-test-{uuid.uuid4().hex[:8]}"


@dataclass
class Edge:
    settings: Settings
    sessions: SessionFactory
    sim: SimulatorProcess
    world: World
    aggregator: Proc
    procs: list[Proc] = field(default_factory=list)

    def env(self, **overrides: object) -> dict[str, str]:
        return child_env(self.settings, **overrides)

    def started(self, proc: Proc) -> Proc:
        self.procs.append(proc)
        return proc

    def dispatcher(self, settings: Settings | None = None) -> Dispatcher:
        return Dispatcher(settings or self.settings, self.sessions).start()


@pytest.fixture(scope="module")
def pressure_db(postgres_server_url: str) -> Iterator[str]:
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        yield url


@pytest.fixture(scope="module")
def pressure_redis(redis_url: str) -> Iterator[str]:
    yield redis_url
    forget_redis_keys(redis_url)


@pytest.fixture(scope="module")
def sim_process() -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess()
    try:
        yield sim
    finally:
        sim.close()


@pytest.fixture(scope="module")
def base_settings(
    pressure_db: str,
    vhost_url: str,  # noqa: F811 - the fixture imported above
    pressure_redis: str,
    sim_process: SimulatorProcess,
) -> Settings:
    return load_settings(
        database_url=pressure_db,
        broker_url=vhost_url,
        redis_url=pressure_redis,
        redis_key_prefix=REDIS_PREFIX,
        secret_key=TEST_KEY,
        traces_base_url=sim_process.traces_url,
        itportal_base_url=sim_process.itportal_url,
        traces_dispatch_window=48,
    )


@pytest.fixture(scope="module")
def aggregator_process(base_settings: Settings) -> Iterator[Proc]:
    proc = aggregator(child_env(base_settings))
    try:
        yield proc
    finally:
        proc.close()


@pytest.fixture(scope="module")
def engine(base_settings: Settings) -> Iterator[sa.Engine]:
    engine = make_engine(base_settings.database_url)
    yield engine
    engine.dispose()


def forget_redis_keys(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(f"{REDIS_PREFIX}:*"):
            client.delete(key)
    finally:
        client.close()


def purge_queues(settings: Settings) -> None:
    broker = make_broker(settings)
    try:
        for queue in (TRACES_QUEUE, ITPORTAL_QUEUE, RESULTS_QUEUE):
            broker.flush(queue)
    finally:
        broker.close()


@pytest.fixture
def edge(
    base_settings: Settings,
    engine: sa.Engine,
    sim_process: SimulatorProcess,
    aggregator_process: Proc,
) -> Iterator[Edge]:
    sim_process.reset()
    forget_redis_keys(base_settings.redis_url or "")
    sessions = make_session_factory(engine)
    world = World.create(sessions, CredentialCipher(TEST_KEY))
    found = Edge(base_settings, sessions, sim_process, world, aggregator_process)
    try:
        yield found
    finally:
        for proc in found.procs:
            print(f"----- {proc.name} (exit {proc.popen.poll()}) -----\n{proc.output()}")
            proc.close()
        print(f"----- aggregator -----\n{aggregator_process.output()}")
        purge_queues(base_settings)
