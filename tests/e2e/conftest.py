"""Fixtures for end-to-end tests: a seeded PostgreSQL database, the real processes, the API."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from syncbucket.clientmaster.seed import seed_demo
from syncbucket.config import load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db import migrate
from syncbucket.db.engine import make_engine
from syncbucket.db.session import make_session_factory, unit_of_work
from tests.e2e.processes import Stack, answers, environ, free_port, stack_env
from tests.e2e.rabbit import EventTap, purge_pipeline_queues
from tests.support.services import private_vhost

DEMO_CLIENTS = 300


@dataclass(frozen=True)
class SeededDatabase:
    url: str
    firm_id: int
    token: str
    clients: int


@dataclass(frozen=True)
class RunningStack:
    stack: Stack
    api_url: str
    sim_url: str


def seed_database(url: str, clients: int) -> SeededDatabase:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        cipher = CredentialCipher(load_settings().require_secret_key())
        with unit_of_work(make_session_factory(engine)) as session:
            report = seed_demo(session, clients, cipher)
    finally:
        engine.dispose()
    assert report.token is not None
    return SeededDatabase(url, report.firm.id, report.token, clients)


def start_stack(database: SeededDatabase, amqp_url: str, **settings: object) -> RunningStack:
    sim_port, api_port = free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    defaults: dict[str, object] = {"log_format": "human", "log_level": "WARNING"}
    env = stack_env(
        environ(),
        database_url=database.url,
        broker_url=amqp_url,
        api_port=api_port,
        portal_sim_port=sim_port,
        traces_base_url=f"{sim_url}/traces",
        itportal_base_url=f"{sim_url}/itportal",
        traces_rate_per_second=1000,
        traces_burst=100,
        itportal_rate_per_second=1000,
        itportal_burst=100,
        dispatch_interval_seconds=0.2,
        retry_min_backoff_seconds=0.2,
        retry_max_backoff_seconds=2.0,
        # Own metrics directory and ports, so a `make stack` on this host is not disturbed.
        metrics_dir=tempfile.mkdtemp(prefix="syncbucket-e2e-metrics-"),
        coordinator_metrics_port=free_port(),
        aggregator_metrics_port=free_port(),
        requests_metrics_port=free_port(),
        traces_worker_metrics_port=free_port(),
        itportal_worker_metrics_port=free_port(),
        **{**defaults, **settings},
    )
    return launch(Stack(env), f"http://127.0.0.1:{api_port}", sim_url)


def launch(stack: Stack, api_url: str, sim_url: str) -> RunningStack:
    """Start ``stack`` and return once the simulator and the coordinator answer."""
    stack.start()
    running = RunningStack(stack, api_url, sim_url)
    try:
        stack.wait_for("the simulator", lambda: answers(f"{sim_url}/admin/health"), 60)
        stack.wait_for("the coordinator", lambda: healthy(running.api_url), 60)
    except BaseException:
        stack.stop()
        print(stack.output_tail())
        raise
    return running


def healthy(api_url: str) -> bool | None:
    try:
        return True if httpx.get(f"{api_url}/healthz", timeout=1.0).status_code == 200 else None
    except httpx.HTTPError:
        return None


@pytest.fixture(scope="session")
def e2e_database(postgres_url: str) -> SeededDatabase:
    return seed_database(postgres_url, DEMO_CLIENTS)


@pytest.fixture(scope="session")
def e2e_broker_url(amqp_url: str) -> Iterator[str]:
    """A vhost of the session's own: no other stack on this host shares its queues (one
    that did -- a `make stack`, another test session -- would take the tests' messages)."""
    with private_vhost(amqp_url) as url:
        yield url


@pytest.fixture(scope="session")
def e2e_stack(e2e_database: SeededDatabase, e2e_broker_url: str) -> Iterator[RunningStack]:
    purge_pipeline_queues(e2e_broker_url)
    running = start_stack(e2e_database, e2e_broker_url)
    try:
        yield running
    finally:
        running.stack.stop()
        purge_pipeline_queues(e2e_broker_url)
        print("---- output of the stack's processes (tail) ----")
        print(running.stack.output_tail())


@pytest.fixture
def stack_output(e2e_stack: RunningStack) -> Iterator[Stack]:
    """Prints the processes' recent output after the test (shown by pytest on failure)."""
    mark = len(e2e_stack.stack.buffer.text())
    yield e2e_stack.stack
    print(e2e_stack.stack.buffer.text()[mark:][-20_000:])


@pytest.fixture
def api(e2e_stack: RunningStack, e2e_database: SeededDatabase) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {e2e_database.token}"}
    with httpx.Client(base_url=f"{e2e_stack.api_url}/api/v1", headers=headers, timeout=30) as c:
        yield c


@pytest.fixture
def events(e2e_broker_url: str) -> Iterator[EventTap]:
    tap = EventTap(e2e_broker_url)
    try:
        yield tap
    finally:
        tap.close()
