"""Counting a burst of server errors inside one process (the trigger for a 5xx slow-down)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class ErrorBurstDetector:
    """``record`` answers True on the error that makes ``threshold`` within ``window_s``.

    The window then starts empty again, so a lasting outage triggers one slow-down per
    ``threshold`` errors, not one per error. Share one detector between the transports of
    one portal in a process. Thread-safe.
    """

    def __init__(
        self,
        threshold: int = 5,
        window_s: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or window_s <= 0:
            raise ValueError("threshold must be >= 1 and window_s > 0")
        self._threshold = threshold
        self._window_s = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def record(self) -> bool:
        with self._lock:
            now = self._clock()
            self._times.append(now)
            while self._times and self._times[0] <= now - self._window_s:
                self._times.popleft()
            if len(self._times) < self._threshold:
                return False
            self._times.clear()
            return True
