"""The in-process limiter: GCRA rate and burst, fairness, the window bound, slow-downs."""

from __future__ import annotations

import heapq
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncbucket.ratelimit.limiter import PortalLimit, RateChange
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from tests.unit.ratelimit.clock import FakeClock

P = "traces"


def limiter(
    rate: float,
    burst: int,
    clock: FakeClock,
    *,
    compound_after_s: float = 5.0,
    min_factor: float = 1 / 16,
    on_rate_change: Callable[[RateChange], None] | None = None,
) -> InMemoryRateLimiter:
    return InMemoryRateLimiter(
        {P: PortalLimit(rate, burst)},
        clock=clock,
        compound_after_s=compound_after_s,
        min_factor=min_factor,
        on_rate_change=on_rate_change,
    )


def test_burst_passes_at_once_then_one_per_interval() -> None:
    clock = FakeClock()
    rl = limiter(10, 3, clock)
    waits = [rl.acquire(P) for _ in range(6)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1, 0.2, 0.3])


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock()
    rl = limiter(10, 3, clock)
    for _ in range(3):
        rl.acquire(P)
    clock.advance(100)
    waits = [rl.acquire(P) for _ in range(4)]
    assert waits == pytest.approx([0, 0, 0, 0.1])


def test_sustained_rate_matches_configuration() -> None:
    clock = FakeClock()
    rl = limiter(50, 5, clock)
    sends = []
    for _ in range(505):
        wait = rl.acquire(P)
        sends.append(clock() + wait)
        clock.advance(wait)
    # 5 at t=0, then 500 at 50/s: the last one at 10 s
    assert sends[-1] - sends[0] == pytest.approx(10.0)


def test_unknown_portal_is_named() -> None:
    with pytest.raises(KeyError, match="no rate limit configured for portal 'nope'"):
        limiter(1, 1, FakeClock()).acquire("nope")


def test_callers_each_holding_one_reservation_get_equal_shares() -> None:
    """Discrete-event run: 8 callers, each acquires again the moment it has sent."""
    clock = FakeClock()
    rl = limiter(20, 4, clock)
    queue = [(clock(), caller, caller) for caller in range(8)]  # (time, FIFO seq, caller)
    sent: Counter[int] = Counter()
    seq = 8
    while queue:
        at, _, caller = heapq.heappop(queue)
        clock.set(at)
        send_at = at + rl.acquire(P)
        if send_at > 1000 + 30:
            continue
        sent[caller] += 1
        heapq.heappush(queue, (send_at, seq, caller))
        seq += 1
    assert set(sent.values()) <= {max(sent.values()), max(sent.values()) - 1}
    assert sum(sent.values()) == pytest.approx(20 * 30 + 4, abs=8)


def test_real_threads_get_about_equal_shares() -> None:
    rl = InMemoryRateLimiter({P: PortalLimit(400, 1)})
    counts = [0] * 4
    stop = time.monotonic() + 0.6

    def caller(index: int) -> None:
        while True:
            wait = rl.acquire(P)
            if time.monotonic() + wait > stop:
                return
            time.sleep(wait)
            counts[index] += 1

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert min(counts) >= 0.8 * max(counts)
    assert 0.8 * 240 <= sum(counts) <= 241


@settings(max_examples=150, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=500),
    burst=st.integers(min_value=1, max_value=20),
    gaps=st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=120),
)
def test_no_window_holds_more_than_burst_plus_rate_times_length(
    rate: float, burst: int, gaps: list[float]
) -> None:
    clock = FakeClock()
    rl = limiter(rate, burst, clock)
    sends = []
    for gap in gaps:
        clock.advance(gap)
        wait = rl.acquire(P)
        assert wait >= 0
        sends.append(clock() + wait)
    sends.sort()
    for i in range(len(sends)):
        for j in range(i, len(sends)):
            assert j - i + 1 <= burst + rate * (sends[j] - sends[i]) + 1e-6


def test_slow_down_halves_the_rate_then_recovers() -> None:
    clock = FakeClock()
    changes: list[RateChange] = []
    rl = limiter(10, 1, clock, on_rate_change=changes.append)
    rl.acquire(P)
    change = rl.slow_down(P, 0.5, 30, "429")
    assert (change.factor, change.effective_rate, change.remaining_s) == (0.5, 5.0, 30)
    assert rl.effective_rate(P) == 5.0
    assert rl.acquire(P) == pytest.approx(0.1)  # the TAT set at full rate
    assert rl.acquire(P) == pytest.approx(0.3)  # then 0.2 s apart
    clock.advance(31)
    assert rl.effective_rate(P) == 10.0
    assert [c.effective_rate for c in changes] == [5.0, 10.0]


def test_slow_downs_of_one_incident_do_not_compound_later_ones_do() -> None:
    clock = FakeClock()
    rl = limiter(16, 1, clock, compound_after_s=5, min_factor=1 / 8)
    assert rl.slow_down(P, 0.5, 30, "429").factor == 0.5
    clock.advance(1)
    same = rl.slow_down(P, 0.5, 60, "429")
    assert (same.factor, same.compounded, same.remaining_s) == (0.5, False, 60)
    clock.advance(6)
    assert rl.slow_down(P, 0.5, 30, "429").factor == 0.25
    clock.advance(6)
    assert rl.slow_down(P, 0.5, 30, "429").factor == 0.125
    clock.advance(6)
    assert rl.slow_down(P, 0.5, 30, "429").factor == 0.125  # the floor
    clock.advance(43)  # the second one extended the deadline to 61 s after the first
    assert rl.effective_rate(P) == 16


def test_slow_down_arguments_are_checked() -> None:
    rl = limiter(1, 1, FakeClock())
    with pytest.raises(ValueError, match="factor"):
        rl.slow_down(P, 2, 10, "x")
    with pytest.raises(ValueError, match="duration"):
        rl.slow_down(P, 0.5, 0, "x")
