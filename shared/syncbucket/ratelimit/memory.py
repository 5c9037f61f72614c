"""The in-process limiter for the embedded footprint: the same GCRA and slow-down rules as
the Redis one (see :mod:`syncbucket.ratelimit.limiter`), thread-safe, with an injectable
clock so tests can drive time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from syncbucket.ratelimit.limiter import (
    DEFAULT_COMPOUND_AFTER_S,
    DEFAULT_MIN_FACTOR,
    PortalLimit,
    RateListener,
    RateWatch,
    SlowDown,
    SlowState,
    check_slow_down_args,
    combine_slow_down,
    limit_of,
    reserve,
)


class InMemoryRateLimiter:
    """GCRA per portal inside one process. Not shared between processes."""

    def __init__(
        self,
        limits: Mapping[str, PortalLimit],
        *,
        clock: Callable[[], float] = time.monotonic,
        compound_after_s: float = DEFAULT_COMPOUND_AFTER_S,
        min_factor: float = DEFAULT_MIN_FACTOR,
        on_rate_change: RateListener | None = None,
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._compound_after_s = compound_after_s
        self._min_factor = min_factor
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}
        self._slow: dict[str, SlowState] = {}
        self._watch = RateWatch(on_rate_change)

    def acquire(self, portal: str) -> float:
        limit = limit_of(self._limits, portal)
        with self._lock:
            now = self._clock()
            factor = self._factor(portal, now)
            slot = reserve(self._tat.get(portal), now, 1.0 / (limit.rate * factor), limit.burst)
            self._tat[portal] = slot.tat
        self._watch.observe(portal, limit.rate, factor, now)
        return slot.wait

    def slow_down(self, portal: str, factor: float, duration_s: float, reason: str) -> SlowDown:
        check_slow_down_args(factor, duration_s)
        limit = limit_of(self._limits, portal)
        with self._lock:
            now = self._clock()
            state, compounded = combine_slow_down(
                self._active(portal, now),
                now,
                factor,
                duration_s,
                compound_after_s=self._compound_after_s,
                min_factor=self._min_factor,
            )
            self._slow[portal] = state
        self._watch.observe(portal, limit.rate, state.factor, now)
        return SlowDown(
            portal=portal,
            reason=reason,
            factor=state.factor,
            rate=limit.rate,
            effective_rate=limit.rate * state.factor,
            remaining_s=state.until - now,
            compounded=compounded,
        )

    def effective_rate(self, portal: str) -> float:
        limit = limit_of(self._limits, portal)
        with self._lock:
            now = self._clock()
            factor = self._factor(portal, now)
        self._watch.observe(portal, limit.rate, factor, now)
        return limit.rate * factor

    def _active(self, portal: str, now: float) -> SlowState | None:
        state = self._slow.get(portal)
        if state is not None and state.until <= now:
            del self._slow[portal]
            return None
        return state

    def _factor(self, portal: str, now: float) -> float:
        state = self._active(portal, now)
        return 1.0 if state is None else state.factor
