"""Pipeline benchmarks on the real processes (``make bench``); one ``BENCH {json}`` line each.

- end-to-end items/s (300 clients x all modules, zero-latency fault-free simulator) next to
  raw Dramatiq no-op throughput on the same RabbitMQ with the pools' process/thread counts;
- time to accept a 10,000-client x 6-module run (``create_run`` on PostgreSQL);
- coordinator and aggregator peak RSS (VmHWM) for 1,000- and 10,000-client runs, each
  processed for a time box (a full 70,000-item run takes ~25 min here) and then cancelled.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
import sqlalchemy as sa

from syncbucket.db.clients import Client
from syncbucket.db.engine import make_engine
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from tests.e2e.api import start_run, summary, wait_terminal
from tests.e2e.conftest import RunningStack, SeededDatabase, seed_database, start_stack
from tests.e2e.processes import vm_hwm_kib
from tests.perf.raw_dramatiq import noop_throughput
from tests.support.db import scratch_postgres
from tests.support.services import private_vhost

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

POOL_PROCESSES, POOL_THREADS = 2, 8  # two pools (one per portal), 1 process x 8 threads each
NOOP_MESSAGES = 5_000
BIG = 10_000
TIME_BOX_SECONDS = 45.0


def bench(name: str, value: float, unit: str, **extra: object) -> None:
    print("BENCH " + json.dumps({"name": name, "value": round(value, 3), "unit": unit, **extra}))


def test_end_to_end_items_per_second_vs_raw_dramatiq(
    e2e_stack: RunningStack, e2e_database: SeededDatabase, e2e_broker_url: str
) -> None:
    headers = {"Authorization": f"Bearer {e2e_database.token}"}
    with httpx.Client(base_url=f"{e2e_stack.api_url}/api/v1", headers=headers, timeout=30) as api:
        httpx.post(f"{e2e_stack.sim_url}/admin/reset").raise_for_status()
        run_id = start_run(api)
        final, seconds = wait_terminal(api, e2e_stack.stack, run_id, timeout=300)
    e2e = final["total_items"] / seconds
    raw = noop_throughput(e2e_broker_url, NOOP_MESSAGES, POOL_PROCESSES, POOL_THREADS)
    shape = {"processes": POOL_PROCESSES, "threads": POOL_THREADS}
    bench("e2e_items_per_second", e2e, "items/s", items=final["total_items"], **shape)
    bench("dramatiq_noop_messages_per_second", raw, "messages/s", messages=NOOP_MESSAGES, **shape)
    bench("e2e_to_noop_ratio", e2e / raw, "ratio")


def test_accepting_a_10000_client_run(postgres_server_url: str) -> None:
    with scratch_postgres(postgres_server_url) as url:
        seeded = seed_database(url, BIG)
        engine = make_engine(url)
        try:
            started = time.perf_counter()
            with unit_of_work(make_session_factory(engine)) as session:
                request = RunRequest(seeded.firm_id, list(ModuleKey), source=RunSource.API)
                created = create_run(session, request)
            seconds = time.perf_counter() - started
        finally:
            engine.dispose()
    bench("accept_run_seconds", seconds, "s", clients=BIG, items=created.total_items)
    assert created.total_items == BIG * 7


def client_ids(url: str, count: int) -> list[int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(Client.id).order_by(Client.id).limit(count)))
    finally:
        engine.dispose()


def test_peak_memory_of_coordinator_and_aggregator(postgres_server_url: str, amqp_url: str) -> None:
    # A vhost of its own: the session's e2e stack (still alive) must not take its messages.
    with scratch_postgres(postgres_server_url) as url, private_vhost(amqp_url) as vhost:
        seeded = seed_database(url, BIG)
        running = start_stack(seeded, vhost)
        try:
            measure_memory(running, seeded, client_ids(url, 1_000))
        finally:
            running.stack.stop()


def measure_memory(running: RunningStack, seeded: SeededDatabase, first_1000: list[int]) -> None:
    """Each run is accepted through the API, processed for a time box, then cancelled."""
    headers = {"Authorization": f"Bearer {seeded.token}"}
    with httpx.Client(base_url=f"{running.api_url}/api/v1", headers=headers, timeout=120) as api:
        for label, clients in (("1000", {"ids": first_1000}), ("10000", "all")):
            run_id = start_run(api, clients=clients, modules="all")
            time.sleep(TIME_BOX_SECONDS)
            running.stack.check_alive()
            current = summary(api, run_id)
            note = (
                f"{label} clients x 6 modules ({current['total_items']} items): accepted, "
                f"{current['items_done']} done in {TIME_BOX_SECONDS:.0f}s, then cancelled"
            )
            report_rss(running.stack.pids, note)
            api.post(f"/runs/{run_id}/cancel")
            wait_terminal(api, running.stack, run_id, timeout=120)


def report_rss(pids: dict[str, int], note: str) -> None:
    for service in ("coordinator", "aggregator"):
        bench(f"{service}_peak_rss", vm_hwm_kib(pids[service]) / 1024, "MiB", run=note)
