"""A token bucket per portal: the simulator's stand-in for an unpublished portal rate limit.

Runs on real monotonic time (not the simulated clock), because the clients it tests pace
themselves in real time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``take`` answers 0 when a request may pass, else the whole seconds to wait (>= 1)."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._tokens: float | None = None  # None = full (first use, or after reset)
        self._last = 0.0

    def take(self, rate_per_second: float, burst: int) -> int:
        if rate_per_second <= 0:
            return 0
        with self._lock:
            now = self._now()
            if self._tokens is None:
                tokens = float(burst)
            else:
                tokens = min(float(burst), self._tokens + (now - self._last) * rate_per_second)
            self._last = now
            if tokens >= 1.0:
                self._tokens = tokens - 1.0
                return 0
            self._tokens = tokens
            return max(1, math.ceil((1.0 - tokens) / rate_per_second))

    def reset(self) -> None:
        with self._lock:
            self._tokens = None
