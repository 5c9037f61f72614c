"""The simulator's clock: real monotonic time plus an offset that tests and admins can advance.

Lockouts (one hour) and session lifetimes (half an hour) are measured on this clock, so a
test can "wait an hour" with :meth:`SimClock.advance` instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class SimClock:
    """Seconds on an arbitrary monotonic scale; ``advance`` jumps forward."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._base() + self._offset

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
