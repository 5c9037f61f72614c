"""Web app benchmarks (``make bench``); one ``BENCH {json}`` line per figure.

- server time of the Client Master and the Sync Bucket for a firm of 10,000 clients
  (with a sync history: 70,000 module states), p50/p95, next to a bare FastAPI page
  served by the same app in the same process -- wall time and the thread's CPU time;
- Start Sync with Select All over 10,000 clients x all modules, to the run page rendered;
- 50 browsers watching one running run over Server-Sent Events against one (and against
  nobody): the real coordinator process's CPU seconds (from /proc) and the database's
  transactions (pg_stat_database) over the same steady-state window, after every stream
  has its first frame. Flat transactions = the hub works.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from syncbucket.accounts.users import create_user
from syncbucket.config import load_settings
from syncbucket.db.base import utcnow
from syncbucket.db.client_state import ClientLoginState, ClientModuleState, ClientModuleSync
from syncbucket.db.clients import Client
from syncbucket.db.engine import make_engine
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.roles import Role
from syncbucket.portals.registry import PARTS
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import bootstrap
from tests.e2e.conftest import SeededDatabase, healthy, seed_database
from tests.e2e.processes import Stack, environ, free_port, stack_env
from tests.support.db import scratch_postgres
from tests.support.services import private_vhost
from tests.unit.coordinator.fixtures import FakePublisher

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

CLIENTS = 10_000
REQUESTS = 40
PASSWORD = "benchmark password 1"
WATCH_SECONDS = 8.0
WATCHERS = 50


def bench(name: str, value: float, unit: str, **extra: object) -> None:
    print("BENCH " + json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}))


def with_history(url: str, firm_id: int) -> None:
    """Every client synced before: a module state per part, a login state per portal."""
    engine = make_engine(url)
    now = utcnow()
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            ids = list(session.scalars(sa.select(Client.id).where(Client.firm_id == firm_id)))
            states = [
                {
                    "client_id": cid,
                    "module": part.module.value,
                    "portal": part.portal.value,
                    "firm_id": firm_id,
                    "last_attempt_at": now - timedelta(days=cid % 40),
                    "last_status": "failed" if cid % 23 == 0 else "succeeded",
                    "last_error_code": "portal_server_error" if cid % 23 == 0 else None,
                    "last_success_at": now - timedelta(days=cid % 40),
                }
                for cid in ids
                for part in PARTS
            ]
            for start in range(0, len(states), 5_000):
                session.execute(sa.insert(ClientModuleState), states[start : start + 5_000])
            wholes = [
                {
                    "client_id": cid,
                    "module": module.value,
                    "firm_id": firm_id,
                    "synced_at": now - timedelta(days=cid % 40),
                    "failed": cid % 23 == 0,
                    "attempted_at": now - timedelta(days=cid % 40),
                }
                for cid in ids
                for module in ModuleKey
            ]
            for start in range(0, len(wholes), 5_000):
                session.execute(sa.insert(ClientModuleSync), wholes[start : start + 5_000])
            logins = [
                {
                    "client_id": cid,
                    "portal": portal,
                    "state": "rejected" if cid % 50 == 7 else "ok",
                    "observed_at": now,
                }
                for cid in ids
                for portal in ("traces", "itportal")
            ]
            session.execute(sa.insert(ClientLoginState), logins)
            create_user(session, firm_id, "bench@firm.example", Role.ADMIN, PASSWORD)
        with engine.connect() as conn:  # what autovacuum does to a table loaded in bulk
            conn.execute(sa.text("ANALYZE"))
            conn.commit()
    finally:
        engine.dispose()


def sign_in(client: httpx.Client | TestClient) -> None:
    page = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/signin",
        data={"email": "bench@firm.example", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text[:300]


def timed(call: Callable[[], httpx.Response], times: int) -> tuple[list[float], list[float]]:
    """Wall time and the process's CPU time per request (TestClient serves the app on a
    thread of this process, so process time covers server and client alike)."""
    walls, cpus = [], []
    for _ in range(times):
        wall, cpu = time.perf_counter(), time.process_time()
        response = call()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        assert response.status_code == 200, response.text[:300]
    return walls, cpus


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


@pytest.fixture(scope="module")
def big_firm(postgres_server_url: str) -> SeededDatabase:
    with scratch_postgres(postgres_server_url) as url:
        seeded = seed_database(url, CLIENTS)
        with_history(url, seeded.firm_id)
        yield seeded  # type: ignore[misc]


def test_page_server_time_for_10000_clients(big_firm: SeededDatabase) -> None:
    settings = load_settings(database_url=big_firm.url)
    root = bootstrap(settings, publisher=FakePublisher())
    app = create_app(root)

    @app.get("/bench/bare", response_class=HTMLResponse)
    def bare() -> str:
        return "<!doctype html><title>bare</title><p>a bare FastAPI page</p>"

    pages = {
        "bare_fastapi_page": "/bench/bare",
        "client_master_first_page": "/clients",
        "client_master_sorted_by_last_synced": "/clients?sort=last_synced&dir=desc",
        "client_master_filter_failed_last_time": "/clients?failed_last_time=1",
        "client_master_page_100_of_200": "/clients?page=100",
        "sync_bucket": "/bucket",
        "sync_bucket_filter_not_synced_30_days": "/bucket?not_synced_days=30",
    }
    gc.freeze()  # as the coordinator does once started: the setup's objects are not garbage
    try:
        with TestClient(app) as client:
            sign_in(client)
            for name, path in pages.items():
                client.get(path)  # warm: templates compiled, statements cached
                walls, cpus = timed(lambda path=path: client.get(path), REQUESTS)
                bench(
                    f"web_{name}_p50",
                    statistics.median(walls) * 1000,
                    "ms",
                    p95_ms=round(p95(walls) * 1000, 2),
                    cpu_p50_ms=round(statistics.median(cpus) * 1000, 2),
                    cpu_p95_ms=round(p95(cpus) * 1000, 2),
                    clients=CLIENTS,
                    requests=REQUESTS,
                )
            started = time.perf_counter()
            form = client.get("/bucket")
            key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert key and csrf
            run_page = client.post(
                "/bucket/start",
                data={
                    "csrf_token": csrf.group(1),
                    "idempotency_key": key.group(1),
                    "select_all": "1",
                    "all_modules": "1",
                },
            )
            seconds = time.perf_counter() - started
            assert run_page.status_code == 200 and "Waiting to start: 70,000 items" in run_page.text
            bench(
                "web_start_sync_select_all_to_run_page", seconds, "s", clients=CLIENTS, items=70_000
            )
    finally:
        root.close()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def transactions(url: str) -> int:
    name = sa.make_url(url).database
    admin = sa.create_engine(sa.make_url(url).set(database="postgres"))
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            found = conn.scalar(
                sa.text(
                    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :n"
                ),
                {"n": name},
            )
        return int(found or 0)
    finally:
        admin.dispose()


Snapshot = Callable[[], tuple[float, int]]


async def watch(
    base: str, cookies: httpx.Cookies, path: str, watchers: int, seconds: float, snap: Snapshot
) -> tuple[float, int, int]:
    """Open ``watchers`` streams; once each has its first frame (sign-in check and first
    frame are per connection), measure ``seconds`` of steady state: (CPU, transactions,
    frames received in the window)."""
    frames = 0
    connected = 0
    everyone = asyncio.Event()

    async def one(client: httpx.AsyncClient) -> None:
        nonlocal frames, connected
        first = True
        async with client.stream("GET", path) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event: progress"):
                    frames += 1
                    if first:
                        first = False
                        connected += 1
                        if connected == watchers:
                            everyone.set()

    limits = httpx.Limits(max_connections=watchers + 5)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=None, limits=limits
    ) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(watchers)]
        await asyncio.wait_for(everyone.wait(), timeout=60)
        cpu, xacts = snap()
        counted = frames
        await asyncio.sleep(seconds)
        cpu_after, xacts_after = snap()
        window_frames = frames - counted
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return cpu_after - cpu, xacts_after - xacts, window_frames


def test_fifty_watchers_cost_what_one_costs(big_firm: SeededDatabase, amqp_url: str) -> None:
    with private_vhost(amqp_url) as vhost:
        port = free_port()
        env = stack_env(
            environ(),
            database_url=big_firm.url,
            broker_url=vhost,
            api_port=port,
            log_level="WARNING",
            log_format="human",
            coordinator_metrics_port=free_port(),
            progress_tick_seconds=1.0,
        )
        stack = Stack(env, only=frozenset({"coordinator"}))
        stack.start()
        base = f"http://127.0.0.1:{port}"
        try:
            stack.wait_for("the coordinator", lambda: healthy(base), 60)
            with httpx.Client(base_url=base, timeout=60) as client:
                sign_in(client)
                with httpx.Client(
                    base_url=f"{base}/api/v1",
                    headers={"Authorization": f"Bearer {big_firm.token}"},
                    timeout=60,
                ) as api:
                    run_id = api.post(
                        "/runs", json={"clients": {"ids": list(range(1, 1001))}, "modules": "all"}
                    ).json()["run_id"]
                cookies = client.cookies
            pid = stack.pids["coordinator"]

            def snap() -> tuple[float, int]:
                return cpu_seconds(pid), transactions(big_firm.url)

            before = snap()  # nobody watching: the coordinator's own loops
            time.sleep(WATCH_SECONDS)
            after = snap()
            results = {0: (after[0] - before[0], after[1] - before[1], 0)}
            path = f"/runs/{run_id}/events"
            for watchers in (1, WATCHERS):
                results[watchers] = asyncio.run(
                    watch(base, cookies, path, watchers, WATCH_SECONDS, snap)
                )
            for watchers, (cpu, xacts, frames) in results.items():
                bench(
                    f"web_sse_{watchers}_watchers_coordinator_cpu",
                    cpu,
                    "s",
                    window_s=WATCH_SECONDS,
                    db_transactions=xacts,
                    db_transactions_per_second=round(xacts / WATCH_SECONDS, 1),
                    frames=frames,
                )
            idle, one, many = results[0], results[1], results[WATCHERS]
            bench(
                "web_sse_50_to_1_db_transactions_ratio",
                many[1] / max(one[1], 1),
                "ratio",
                idle_transactions=idle[1],
            )
            bench(
                "web_sse_50_to_1_cpu_ratio",
                many[0] / max(one[0], 0.01),
                "ratio",
                idle_cpu_s=round(idle[0], 3),
            )
            assert many[2] >= WATCHERS  # every watcher got frames in the window
        finally:
            stack.stop()
