"""The coordinator as a real process on PostgreSQL and RabbitMQ: API, dispatch, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from syncbucket.clientmaster.firms import create_firm
from syncbucket.db.clients import Client
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import make_session_factory, unit_of_work
from tests.integration.coordinator.rabbit import purge_portal_queues
from tests.support.db import scratch_postgres
from tests.support.services import private_vhost
from tests.unit.coordinator.process import free_port, output, start_coordinator, wait_healthy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A migrated database of this module's own: the service dispatches all it finds."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        yield url


def seed_firm(database_url: str, tans: list[str]) -> str:
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            firm, token = create_firm(session, f"Integration {uuid.uuid4().hex[:8]}")
            session.add_all(
                Client(firm_id=firm.id, name=f"Client {tan}", tan=tan, pan="AAAPA1234A")
                for tan in tans
            )
        return token
    finally:
        engine.dispose()


@pytest.fixture
def broker_url(amqp_url: str) -> Iterator[str]:
    """A vhost of the test's own: its queues are nobody else's to read or purge."""
    with private_vhost(amqp_url) as url:
        yield url


@pytest.fixture
def coordinator_url(database_url: str, broker_url: str) -> Iterator[tuple[str, Any]]:
    port = free_port()
    env = {
        "SYNCBUCKET_DATABASE_URL": database_url,
        "SYNCBUCKET_BROKER_URL": broker_url,
        "SYNCBUCKET_DISPATCH_INTERVAL_SECONDS": "0.2",
        "SYNCBUCKET_LOG_FORMAT": "human",
    }
    process = start_coordinator(env, port)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        purge_portal_queues(broker_url)


def wait_until_queued(client: httpx.Client, run_id: int, total: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/runs/{run_id}").json()
        # The run turns running in its own short transaction right after the items'
        # release commits (the dispatcher holds no run lock while it publishes).
        if run["counts"]["queued"] == total and run["status"] == "running":
            return run
        time.sleep(0.2)
    raise AssertionError(f"items not dispatched in time: {run}")


def test_post_run_dispatches_and_sigterm_exits_cleanly(
    database_url: str, coordinator_url: tuple[str, subprocess.Popen[str]]
) -> None:
    base_url, process = coordinator_url
    token = seed_firm(database_url, ["PUNE00001P", "PUNE00002P"])
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{base_url}/api/v1", headers=headers, timeout=10) as client:
        body = {"clients": "all", "modules": ["return_summary", "fetch_challans"]}
        created = client.post("/runs", json=body)
        assert created.status_code == 201, created.text
        run_id = created.json()["run_id"]
        assert client.get(f"/runs/{run_id}").json()["total_items"] == 4
        run = wait_until_queued(client, run_id, 4)
        assert run["status"] == "running"
        assert set(run["by_portal"]) == {"traces", "itportal"}
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=10) == 0, output(process)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the coordinator did not exit within 10s of SIGTERM: {output(process)}")
