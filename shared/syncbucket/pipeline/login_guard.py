"""Logins refused as invalid are never tried again in the same run (docs/architecture.md §9).

TRACES locks an account after 5 failed logins. Once a login of a client on a portal is
rejected in a run, the rest of that client's items on that portal in that run fail fast
with the same error, without contacting the portal. Workers talk to the
:class:`LoginGuard` protocol; :class:`InProcessLoginGuard` remembers refusals in this
process only (a later issue shares them through Redis behind the same protocol).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from syncbucket.pipeline.retry_policy import Failure

# A run is long over after a day; older refusals are forgotten to bound memory.
DEFAULT_REFUSAL_TTL_SECONDS = 24 * 3600.0

RefusalKey = tuple[int, int, str]  # (run_id, client_id, portal)


class LoginGuard(Protocol):
    def refusal(self, run_id: int, client_id: int, portal: str) -> Failure | None:
        """The error of an earlier rejected login for this run, client and portal."""

    def remember(self, run_id: int, client_id: int, portal: str, failure: Failure) -> None: ...


class InProcessLoginGuard:
    def __init__(
        self,
        ttl_seconds: float = DEFAULT_REFUSAL_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._refusals: dict[RefusalKey, tuple[float, Failure]] = {}

    def refusal(self, run_id: int, client_id: int, portal: str) -> Failure | None:
        with self._lock:
            entry = self._refusals.get((run_id, client_id, portal))
        return entry[1] if entry is not None else None

    def remember(self, run_id: int, client_id: int, portal: str, failure: Failure) -> None:
        now = self._clock()
        with self._lock:
            stale = [k for k, (at, _) in self._refusals.items() if now - at >= self._ttl]
            for key in stale:
                del self._refusals[key]
            self._refusals[(run_id, client_id, portal)] = (now, failure)
