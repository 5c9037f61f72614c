"""Portal pressure on the real stack (docs/architecture.md §3, 3.8-3.10; issue 4).

Two TRACES worker pools of 2 processes x 4 threads each - real ``dramatiq`` processes, as
on two hosts - share one Redis GCRA bucket, one session cache and one lockout breaker;
the simulator enforces its own rate limit. Whole file: about two minutes.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import sqlalchemy as sa

from syncbucket.db.outcomes import Outcome
from syncbucket.domain.portals import Portal
from tests.integration.portal_pressure.conftest import Edge
from tests.integration.portal_pressure.harness import (
    TERMINAL,
    done_count,
    items_of,
    start_run,
    traces_pool,
    wait_run,
)
from tests.integration.portal_pressure.procs import Proc, wait_for
from tests.integration.portal_pressure.sampling import Sampler, steady_window

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 25.0
SIM_BURST = 10
OUR_BURST = SIM_BURST - 1  # one request of headroom for arrival jitter (docs/configuration.md)


def two_pools(edge: Edge, **env: object) -> list[Proc]:
    settings = {"traces_rate_per_second": RATE, "traces_burst": OUR_BURST, **env}
    pools = [edge.started(traces_pool(f"pool-{n}", edge.env(**settings))) for n in "ab"]
    return pools


def add_clients(edge: Edge, n: int, *, wrong: int = 0) -> list[int]:
    bad = [edge.world.add_client(wrong=[Portal.TRACES])[0] for _ in range(wrong)]
    return bad + [edge.world.add_client()[0] for _ in range(n - wrong)]


def test_two_pools_stay_at_the_limit_without_a_single_429(edge: Edge) -> None:
    edge.sim.set_faults("traces", rate_limit_per_second=RATE, rate_limit_burst=SIM_BURST)
    pools = two_pools(edge)
    run_id = start_run(edge.sessions, edge.world.firm_id, add_clients(edge, 30))
    sampler = Sampler(edge.sim)
    dispatcher = edge.dispatcher()
    try:
        run = wait_run(edge.sessions, run_id, 60, [*pools, edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
        samples = sampler.stop()
    stats = edge.sim.stats("traces")
    steady = steady_window(samples, stats["requests"]["total"])
    achieved = steady.rate
    print(f"achieved {achieved:.2f} req/s of {RATE} over {steady.seconds:.1f} s; {stats}")
    assert run.items_succeeded == run.total_items == 120
    assert stats["rate_limited"] == 0 and stats["responses"].get("429", 0) == 0
    assert 0.95 * RATE <= achieved <= 1.03 * RATE
    assert set(stats["logins_by_user"].values()) == {1}  # one login per client per run


def test_maintenance_mid_run_defers_items_without_attempts_then_they_complete(
    edge: Edge,
) -> None:
    edge.sim.set_faults("traces", rate_limit_per_second=RATE, rate_limit_burst=SIM_BURST)
    pools = two_pools(edge)
    run_id = start_run(edge.sessions, edge.world.firm_id, add_clients(edge, 12))
    dispatcher = edge.dispatcher()
    try:
        wait_for(lambda: done_count(edge.sessions, run_id) >= 8, 30, "the first outcomes")
        edge.sim.set_faults("traces", maintenance=True, maintenance_retry_after_seconds=1)
        time.sleep(2.5)
        edge.sim.set_faults("traces", maintenance=False)
        run = wait_run(edge.sessions, run_id, 60, [*pools, edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
    stats = edge.sim.stats("traces")
    assert stats["responses"].get("503", 0) > 0, stats
    assert run.items_succeeded == run.total_items == 48
    assert {item.attempts for item in items_of(edge.sessions, run_id)} == {1}


def test_bad_credentials_cost_one_login_per_client_and_fail_the_rest_at_once(
    edge: Edge,
) -> None:
    edge.sim.set_faults("traces", rate_limit_per_second=RATE, rate_limit_burst=SIM_BURST)
    pools = two_pools(edge)
    clients = add_clients(edge, 8, wrong=4)
    run_id = start_run(edge.sessions, edge.world.firm_id, clients)
    dispatcher = edge.dispatcher()
    try:
        run = wait_run(edge.sessions, run_id, 60, [*pools, edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
    stats = edge.sim.stats("traces")
    assert stats["logins"]["rejected"] == 4 and stats["lockouts"] == 0
    assert set(stats["logins_by_user"].values()) == {1}, stats["logins_by_user"]
    assert (run.items_succeeded, run.items_failed) == (16, 16)
    bad = set(clients[:4])
    for item in items_of(edge.sessions, run_id):
        if item.client_id in bad:
            assert item.error_code == "invalid_credentials"
            assert "client master" in (item.error_message or ""), item.error_message


def outcomes_per_item(edge: Edge, run_id: int) -> set[int]:
    query = (
        sa.select(sa.func.count())
        .select_from(Outcome)
        .where(Outcome.run_id == run_id)
        .group_by(Outcome.item_id)
    )
    with edge.sessions() as session:
        return set(session.scalars(query))


def test_sigkill_of_a_worker_process_mid_run_still_ends_every_item(edge: Edge) -> None:
    edge.sim.set_faults(
        "traces",
        rate_limit_per_second=RATE,
        rate_limit_burst=SIM_BURST,
        latency_ms_min=20,
        latency_ms_max=60,
    )
    timeouts = {"item_queued_timeout_seconds": 20, "reaper_interval_seconds": 1}
    # A killed process may die holding a client's login lock: the others wait out its lease.
    pools = two_pools(
        edge,
        item_running_timeout_seconds=20,
        item_time_limit_seconds=20,
        session_login_lock_lease_seconds=8,
    )
    run_id = start_run(edge.sessions, edge.world.firm_id, add_clients(edge, 24))
    dispatcher = edge.dispatcher(edge.settings.model_copy(update=timeouts))
    try:
        wait_for(lambda: done_count(edge.sessions, run_id) >= 15, 30, "the first outcomes")
        victim = pools[0].children()[0]
        os.kill(victim, signal.SIGKILL)
        run = wait_run(edge.sessions, run_id, 90, [pools[1], edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
    items = items_of(edge.sessions, run_id)
    assert {item.status.value for item in items} <= set(TERMINAL)
    assert run.items_succeeded == run.total_items == 96
    assert outcomes_per_item(edge, run_id) == {1}


def test_sigterm_finishes_or_requeues_in_flight_items_and_loses_none(edge: Edge) -> None:
    edge.sim.set_faults(
        "traces",
        rate_limit_per_second=RATE,
        rate_limit_burst=SIM_BURST,
        latency_ms_min=100,
        latency_ms_max=200,
    )
    pools = two_pools(edge)
    run_id = start_run(edge.sessions, edge.world.firm_id, add_clients(edge, 16))
    dispatcher = edge.dispatcher()
    try:
        wait_for(lambda: done_count(edge.sessions, run_id) >= 10, 30, "the first outcomes")
        running = sum(1 for i in items_of(edge.sessions, run_id) if i.status.value == "running")
        started = time.monotonic()
        code = pools[0].terminate(timeout=40)
        stopped_in = time.monotonic() - started
        run = wait_run(edge.sessions, run_id, 60, [pools[1], edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
    print(f"{running} items running at SIGTERM; pool stopped in {stopped_in:.1f} s")
    assert code == 0, "the pool did not stop cleanly within its shutdown timeout"
    assert running > 0
    assert run.items_succeeded == run.total_items == 64
    assert outcomes_per_item(edge, run_id) == {1}
