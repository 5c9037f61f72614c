"""Rate-limit utilisation against the real portal simulator (``make bench``; issue 4).

Two TRACES worker pools (real ``dramatiq`` processes, 2 x 8 threads each) share the Redis
GCRA bucket; the simulator (zero latency, its own token bucket ON at the configured rate)
counts what it receives. For limits of 5, 50 and 200 requests/s:

- utilisation = achieved portal requests/s (steady state, from the simulator's counters)
  / configured limit, with the 429s the simulator sent;
- logins per client per run (simulator per-user login counts).

Our burst is the portal's minus a jitter headroom (one token at 5 and 50/s, five at 200/s:
25 ms of arrival jitter); with one token at 200/s a single jitter 429 in the warm-up halved
the rate for the 30 s slow-down (measured 0.50 utilisation) - the adaptive back-off
working as designed, and the reason for the headroom. At 200/s a 2-core host running
every process of the stack is CPU-bound and its scheduling jitter can exceed even 25 ms:
the 200/s figures are printed, not asserted (``achieved_before_first_429_per_s`` shows
the rate the limiter held until then).

The extra latency a request pays for taking a token is measured by
``test_ratelimit_overhead.py::test_token_overhead`` (Redis GCRA ``acquire`` next to a Redis
PING); it is not repeated here. Each figure is one ``BENCH {json}`` line.
"""

from __future__ import annotations

import math
import statistics

import pytest

from tests.integration.messaging.conftest import vhost_url  # noqa: F401 - fixtures
from tests.integration.portal_pressure.conftest import (  # noqa: F401 - fixtures
    Edge,
    aggregator_process,
    base_settings,
    edge,
    engine,
    pressure_db,
    pressure_redis,
    sim_process,
)
from tests.integration.portal_pressure.harness import start_run, traces_pool, wait_run
from tests.integration.portal_pressure.sampling import Sample, Sampler, Steady, steady_window
from tests.perf.test_ratelimit_overhead import bench

SIM_BURST = 10
THREADS = 8
# Our burst sits below the portal's by enough tokens to absorb arrival jitter: one token
# is 1/rate seconds of it (5 ms at 200/s), less than a busy 2-core host's scheduling
# jitter; 25 ms worth (at least one token) measured 0 429s (docs/configuration.md).
JITTER_S = 0.025


def headroom(rate: float) -> int:
    return max(1, math.ceil(rate * JITTER_S))


def clients_for(rate: float, seconds: float = 10.0) -> int:
    """Enough clients (4 TRACES items each, ~11 requests a client) for ``seconds`` at ``rate``."""
    return max(4, round(rate * seconds / 11))


@pytest.mark.parametrize("rate", [5.0, 50.0, 200.0])
def test_portal_pressure_utilisation(edge: Edge, rate: float) -> None:  # noqa: F811
    edge.sim.set_faults("traces", rate_limit_per_second=rate, rate_limit_burst=SIM_BURST)
    ours = SIM_BURST - headroom(rate)
    env = edge.env(traces_rate_per_second=rate, traces_burst=ours, log_level="WARNING")
    pools = [edge.started(traces_pool(f"pool-{n}", env, threads=THREADS)) for n in "ab"]
    clients = [edge.world.add_client()[0] for _ in range(clients_for(rate))]
    run_id = start_run(edge.sessions, edge.world.firm_id, clients)
    sampler = Sampler(edge.sim, every=0.1)
    dispatcher = edge.dispatcher()
    try:
        run = wait_run(edge.sessions, run_id, 120, [*pools, edge.aggregator], dispatcher)
    finally:
        dispatcher.stop()
        samples = sampler.stop()
    stats = edge.sim.stats("traces")
    steady = steady_window(samples, stats["requests"]["total"])
    logins = list(stats["logins_by_user"].values())
    bench(
        "portal_pressure_utilisation",
        limit_per_s=rate,
        burst_ours=ours,
        burst_portal=SIM_BURST,
        worker_processes=4,
        threads=4 * THREADS,
        items=run.total_items,
        requests=stats["requests"]["total"],
        window_s=round(steady.seconds, 2),
        achieved_per_s=round(steady.rate, 2),
        utilisation=round(steady.rate / rate, 4),
        responses_429=stats["rate_limited"],
        responses_429_steady=steady.limited,
        logins_per_client_mean=round(statistics.fmean(logins), 3),
        logins_per_client_max=max(logins),
        achieved_before_first_429_per_s=before_first_429(samples, steady),
    )
    assert run.items_succeeded == run.total_items
    if rate <= 50:  # 200/s saturates a 2-core host: see the module docstring
        assert stats["rate_limited"] == 0
        assert steady.rate >= 0.95 * rate


def before_first_429(samples: list[Sample], steady: Steady) -> float | None:
    """The steady rate up to the first 429 (which slows everyone down for a while)."""
    clean = [s for s in samples if s.at >= steady.first.at and s.limited == steady.first.limited]
    if not clean or clean[-1].at - steady.first.at < 1.0:
        return None
    last = clean[-1]
    return round((last.requests - steady.first.requests) / (last.at - steady.first.at), 2)
