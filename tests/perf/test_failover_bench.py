"""Coordinator fail-over on real processes (``make bench``; docs/architecture.md §18).

Two ``python -m syncbucket_coordinator`` processes share one PostgreSQL database with a
short lease. Each round, the leader is stopped; right after, a run is posted to the
other one's API, and the time is taken until that replica:

- says it leads (its ``/healthz``),
- has released the run's items (its API: every item ``queued``) -- the fail-over as a
  firm sees it: the first dispatch tick of the new leader.

``kill -9`` (no release: the lease must run out) is measured next to a clean SIGTERM
(the lease is released on the way out) in the same run; the configured lease seconds
are the baseline to compare with: after a kill the wait is the remaining lease (between
ttl - ttl/3 and ttl, by when the dead leader last renewed) plus up to one renewal
interval of the survivor (ttl/3) plus a dispatch interval. A replacement follower is
started after each round. Each figure is one ``BENCH {json}`` line, median of 5.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from syncbucket.clientmaster.firms import create_firm
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import make_session_factory, unit_of_work
from tests.e2e.processes import environ, free_port, stack_env
from tests.support.db import scratch_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(600)]

LEASE_SECONDS = 2.0
RENEW_SECONDS = LEASE_SECONDS / 3
DISPATCH_SECONDS = 0.1
ROUNDS = 5
POLL_SECONDS = 0.02
START_TIMEOUT = 30.0


def bench(name: str, **figures: object) -> None:
    print("BENCH " + json.dumps({"bench": name, **figures}, sort_keys=True))


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    url: str
    log: IO[bytes]

    def health(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=2).json()
        return body


class Replicas:
    """Start coordinator processes on one database; stop them all at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started: list[Replica] = []

    def start(self) -> Replica:
        port = free_port()
        env = {**self.env, "SYNCBUCKET_COORDINATOR_METRICS_PORT": str(free_port())}
        log = (self.logs / f"coordinator-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "syncbucket_coordinator", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        replica = Replica(process, f"http://127.0.0.1:{port}", log)
        self.started.append(replica)
        wait_until(lambda: self._answers(replica), START_TIMEOUT, f"{replica.url} healthy")
        return replica

    def _answers(self, replica: Replica) -> bool:
        if replica.process.poll() is not None:
            raise AssertionError(f"coordinator exited: {self.tail(replica)}")
        try:
            return httpx.get(f"{replica.url}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def tail(self, replica: Replica) -> str:
        replica.log.flush()
        return Path(replica.log.name).read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for replica in self.started:
            if replica.process.poll() is None:
                replica.process.kill()
                replica.process.wait(10)
            replica.log.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Monotonic instant ``condition`` first held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise AssertionError(f"not in time: {what}")
        time.sleep(POLL_SECONDS)


def seed(url: str) -> str:
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            firm, token = create_firm(session, f"Failover {uuid.uuid4().hex[:8]}")
            clients = [
                Client(firm_id=firm.id, name=f"Client {i}", tan=f"PUNE{i:05d}P", pan="AAAPA1234A")
                for i in range(3)
            ]
            session.add_all(clients)
            session.flush()
            session.add_all(
                ClientCredential(client_id=c.id, portal="traces", secret="x") for c in clients
            )
        return token
    finally:
        engine.dispose()


@pytest.fixture
def replicas(postgres_server_url: str, tmp_path: Path) -> Iterator[tuple[Replicas, str]]:
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        token = seed(url)
        env = stack_env(
            environ(),
            database_url=url,
            leader_lease_seconds=LEASE_SECONDS,
            dispatch_interval_seconds=DISPATCH_SECONDS,
            log_format="human",
            log_level="INFO",
            metrics_dir=str(tmp_path / "metrics"),
        )
        pool = Replicas(env, tmp_path)
        try:
            yield pool, token
        finally:
            pool.stop_all()


def leader_among(pair: list[Replica]) -> tuple[Replica, Replica]:
    found: list[Replica] = []

    def one_leads() -> bool:
        found[:] = [r for r in pair if r.health()["leader"]["leading"]]
        return len(found) == 1

    wait_until(one_leads, LEASE_SECONDS * 3, "exactly one leader")
    leader = found[0]
    return leader, next(r for r in pair if r is not leader)


def fail_over(
    pool: Replicas, token: str, pair: list[Replica], how: signal.Signals
) -> tuple[dict[str, float], list[Replica]]:
    """Stop the leader with ``how``; seconds until the survivor leads and has released."""
    leader, survivor = leader_among(pair)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"clients": "all", "modules": ["return_summary"]}
    stopped = time.monotonic()
    os.kill(leader.process.pid, how)
    created = httpx.post(f"{survivor.url}/api/v1/runs", json=body, headers=headers, timeout=5)
    assert created.status_code == 201, created.text
    run_url = f"{survivor.url}/api/v1/runs/{created.json()['run_id']}"
    leading_at: float | None = None

    def released() -> bool:
        nonlocal leading_at
        if leading_at is None and survivor.health()["leader"]["leading"]:
            leading_at = time.monotonic()
        run = httpx.get(run_url, headers=headers, timeout=2).json()
        done = bool(run["counts"]["queued"] == run["total_items"])
        if done and leading_at is None:  # it took the lead between the two reads
            leading_at = time.monotonic()
        return done

    released_at = wait_until(released, LEASE_SECONDS * 5, "the survivor released the run")
    assert leading_at is not None
    leader.process.wait(10)
    replacement = pool.start()
    return {
        "leading": leading_at - stopped,
        "released": released_at - stopped,
    }, [survivor, replacement]


def summary(samples: list[float]) -> dict[str, object]:
    return {
        "median_s": round(statistics.median(samples), 3),
        "min_s": round(min(samples), 3),
        "max_s": round(max(samples), 3),
        "samples_s": [round(s, 3) for s in samples],
    }


def test_failover_after_kill_9_against_the_lease_and_a_clean_handover(
    replicas: tuple[Replicas, str],
) -> None:
    pool, token = replicas
    pair = [pool.start(), pool.start()]
    results: dict[str, dict[str, list[float]]] = {}
    for name, how in (("kill9", signal.SIGKILL), ("sigterm", signal.SIGTERM)):
        figures: dict[str, list[float]] = {"leading": [], "released": []}
        for _ in range(ROUNDS):
            measured, pair = fail_over(pool, token, pair, how)
            for key, value in measured.items():
                figures[key].append(value)
        results[name] = figures
    baseline = {
        "lease_seconds": LEASE_SECONDS,
        "renew_interval_s": round(RENEW_SECONDS, 3),
        "dispatch_interval_s": DISPATCH_SECONDS,
        "worst_case_s": round(LEASE_SECONDS + RENEW_SECONDS + DISPATCH_SECONDS, 3),
        "rounds": ROUNDS,
    }
    for name, figures in results.items():
        for key, samples in figures.items():
            bench(f"failover_{name}_to_{key}", **summary(samples), **baseline)
    killed = results["kill9"]["released"]
    bench(
        "failover_kill9_to_lease_ratio",
        median=round(statistics.median(killed) / LEASE_SECONDS, 3),
        **baseline,
    )
    # The bound of the design, with room for process scheduling on a busy host.
    assert max(killed) <= LEASE_SECONDS + RENEW_SECONDS + DISPATCH_SECONDS + 1.0
    # A kill can never be faster than the lease's remainder (>= ttl - ttl/3).
    assert min(results["kill9"]["leading"]) >= LEASE_SECONDS - RENEW_SECONDS - 0.05
    # A clean stop releases the lease: the survivor does not wait it out.
    assert statistics.median(results["sigterm"]["released"]) < LEASE_SECONDS - RENEW_SECONDS
