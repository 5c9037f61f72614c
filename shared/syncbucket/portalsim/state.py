"""Everything the simulator remembers, in memory, safe to read from any thread.

uvicorn serves on one event loop, but tests (and ``RunningSimulator``) read and change the
state from their own thread: every part guards itself with a lock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from syncbucket.domain.portals import Portal
from syncbucket.portalsim.clock import SimClock
from syncbucket.portalsim.counters import Counters
from syncbucket.portalsim.faults import PORTALS, FaultSettings, check_portal, updated
from syncbucket.portalsim.lockouts import Lockouts
from syncbucket.portalsim.ratelimit import TokenBucket
from syncbucket.portalsim.sessions import ItPortalSessions, TracesSessions


class SimulatorState:
    """Faults, sessions, lockouts, rate-limit buckets and counters of one simulator."""

    def __init__(
        self,
        faults: Mapping[str, FaultSettings] | None = None,
        *,
        clock: SimClock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        seed: int | None = None,
    ) -> None:
        given = dict(faults or {})
        for portal in given:
            check_portal(portal)
        self.clock = clock or SimClock()
        self.lockouts = Lockouts(self.clock)
        self.traces = TracesSessions(self.clock)
        self.itportal = ItPortalSessions(self.clock)
        self.counters = Counters()
        self._defaults = {p: given.get(p, FaultSettings()) for p in PORTALS}
        self._faults = dict(self._defaults)
        self._buckets = {p: TokenBucket(monotonic) for p in PORTALS}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        # Set while the server shuts down: hanging requests (timeout fault) end early.
        self.stopping = threading.Event()

    def faults(self, portal: str) -> FaultSettings:
        with self._lock:
            return self._faults[check_portal(portal)]

    def set_faults(self, portal: str, **knobs: Any) -> FaultSettings:
        """Change some knobs of ``portal``.

        Raises ``UnknownKnobError`` for knobs that do not exist, pydantic ``ValidationError``
        for bad values.
        """
        check_portal(portal)
        with self._lock:
            new = updated(self._faults[portal], knobs)
            self._faults[portal] = new
        if "rate_limit_per_second" in knobs or "rate_limit_burst" in knobs:
            self._buckets[portal].reset()
        return new

    def take_token(self, portal: str) -> int:
        """0 if the request may pass the portal's rate limit, else seconds to Retry-After."""
        settings = self.faults(portal)
        return self._buckets[portal].take(settings.rate_limit_per_second, settings.rate_limit_burst)

    def chance(self, rate: float) -> bool:
        """True for a fraction ``rate`` of calls."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._rng.uniform(low, high)

    def choice(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._rng.choice(options)

    def live_sessions(self, portal: str) -> int:
        ttl = self.faults(portal).session_ttl_seconds
        store = self.traces if portal == Portal.TRACES else self.itportal
        return store.live(ttl)

    def stats(self) -> dict[str, Any]:
        """The ``GET /admin/stats`` document."""
        portals = {}
        for portal in PORTALS:
            summary = self.counters.portal_summary(portal)
            summary["sessions_live"] = self.live_sessions(portal)
            portals[portal] = summary
        return {"portals": portals}

    def reset(self) -> None:
        """Back to the start-up faults; no sessions, lockouts or counts; clock offset zero."""
        with self._lock:
            self._faults = dict(self._defaults)
        for bucket in self._buckets.values():
            bucket.reset()
        self.lockouts.reset()
        self.traces.reset()
        self.itportal.reset()
        self.counters.reset()
        self.clock.reset()
