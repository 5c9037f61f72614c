"""What the rate limiter costs and how well it fills the limit (``make bench``).

- overhead: the extra latency a request pays for taking a token while the bucket is not
  empty - Redis GCRA ``acquire`` p50/p99 next to a Redis PING round trip measured in the
  same run, and the in-process limiter;
- utilisation: 2 processes x 4 threads pacing themselves through the Redis GCRA at 5, 50
  and 200 req/s (burst 10, the settings' default); achieved rate / limit, computed from the
  *actual* send instants (after each sleep), and how many of those sends the portal
  simulator's own token bucket would have answered with 429 - with the same rate and burst,
  and with one more burst than ours. At 100 % of a strict limit, a send delayed a little
  more than the next one (scheduling, network) can meet an empty portal bucket; one request
  of burst headroom absorbs any jitter up to one interval.

Each figure is printed as one ``BENCH {json}`` line.
"""

from __future__ import annotations

import json
import multiprocessing
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from syncbucket.portalsim.ratelimit import TokenBucket
from syncbucket.ratelimit.limiter import PortalLimit
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.redis_gcra import RedisRateLimiter

P = "traces"
N = 5000
OPEN = PortalLimit(rate=1e9, burst=1_000_000)  # never empty: measures the token alone


def bench(name: str, **figures: object) -> None:
    print("BENCH " + json.dumps({"bench": name, **figures}, sort_keys=True))


def timed_us(call: Callable[[], object], n: int = N) -> dict[str, float]:
    for _ in range(200):
        call()
    samples = []
    for _ in range(n):
        started = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p99_us": round(samples[int(len(samples) * 0.99)], 1),
        "n": n,
    }


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"bench:{uuid.uuid4().hex[:10]}:ratelimit"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)


def test_token_overhead(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    ping = timed_us(client.ping)
    shared = RedisRateLimiter(client, {P: OPEN}, prefix=prefix)
    gcra = timed_us(lambda: shared.acquire(P))
    local = InMemoryRateLimiter({P: OPEN})
    memory = timed_us(lambda: local.acquire(P), n=50_000)
    bench("redis_ping", **ping)
    bench("ratelimit_redis_acquire", **gcra, extra_over_ping_p50_us=gcra["p50_us"] - ping["p50_us"])
    bench("ratelimit_memory_acquire", **memory)
    assert gcra["p50_us"] < 20 * ping["p50_us"] + 1000


def _caller(url: str, prefix: str, limit: PortalLimit, start: float, end: float) -> list[float]:
    rl = RedisRateLimiter.from_url(url, {P: limit}, prefix=prefix)
    offset = rl.server_time() - time.time()
    time.sleep(max(0.0, start - (time.time() + offset)))
    sends: list[float] = []
    while True:
        slot = rl.reserve(P)
        if slot.send_at_s > end:
            return sends
        time.sleep(slot.wait_s)
        sends.append(time.time() + offset)  # when the request would actually leave


def _process(url: str, prefix: str, limit: PortalLimit, start: float, end: float) -> list[float]:
    results: list[list[float]] = [[] for _ in range(4)]

    def run(i: int) -> None:
        results[i] = _caller(url, prefix, limit, start, end)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [s for part in results for s in part]


def would_be_429(sends: list[float], limit: PortalLimit) -> int:
    clock = {"now": 0.0}
    bucket = TokenBucket(now=lambda: clock["now"])
    refused = 0
    for at in sorted(sends):
        clock["now"] = at
        refused += bucket.take(limit.rate, limit.burst) > 0
    return refused


@pytest.mark.parametrize(("rate", "seconds"), [(5.0, 8.0), (50.0, 4.0), (200.0, 4.0)])
def test_utilisation(redis_url: str, prefix: str, rate: float, seconds: float) -> None:
    limit = PortalLimit(rate=rate, burst=10)
    start = RedisRateLimiter.from_url(redis_url, {P: limit}).server_time() + 2.0
    end = start + seconds
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        parts = pool.starmap(_process, [(redis_url, f"{prefix}:{rate}", limit, start, end)] * 2)
    sends = sorted(s for part in parts for s in part)
    steady = (len(sends) - limit.burst) / seconds
    late = [s - start for s in sends]
    bench(
        "ratelimit_utilisation",
        limit_per_s=rate,
        burst=limit.burst,
        seconds=seconds,
        callers=8,
        requests=len(sends),
        achieved_per_s=round(steady, 2),
        utilisation=round(steady / rate, 4),
        would_be_429_portal_same_burst=would_be_429(sends, limit),
        would_be_429_portal_burst_plus_1=would_be_429(sends, PortalLimit(rate, limit.burst + 1)),
        first_send_after_start_s=round(min(late), 4),
    )
    assert steady >= 0.95 * rate
