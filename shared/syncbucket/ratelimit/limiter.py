"""The rate-limiter contract every footprint implements, and the GCRA math they share.

docs/architecture.md §3: a global limit per portal and per HTTP request. ``acquire`` *reserves* the
next send slot of the portal's schedule and answers how long the caller must wait before
sending on it; the caller sleeps that long and sends. Waiting is not a failure and never
counts as a retry.

GCRA (generic cell rate algorithm, "virtual scheduling"): with emission interval
``T = 1 / rate`` and tolerance ``tau = (burst - 1) * T``, a request arriving at ``now`` is
given ``send_at = max(now, TAT - tau)`` where ``TAT = max(stored TAT, now)``, and the
stored TAT becomes ``TAT + T``. Over any window of length ``w`` at most ``burst + rate * w``
send times fall inside it, and callers that each hold one reservation at a time are served
first come, first served (equal shares).

Adaptive slow-down: ``slow_down(portal, factor, duration_s, reason)`` multiplies the
portal's rate by ``factor`` (< 1) for everyone until ``duration_s`` from now, then the full
rate is back. A second slow-down within ``compound_after_s`` of the first belongs to the same
incident (many callers saw the same burst of 429s): it only extends the deadline. A later one
compounds (factor x factor), never below ``min_factor``.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from syncbucket.config import Settings
from syncbucket.domain.portals import Portal
from syncbucket.portals.errors import ErrorCode, PortalTransient

log = logging.getLogger("syncbucket.ratelimit")

DEFAULT_COMPOUND_AFTER_S = 5.0
DEFAULT_MIN_FACTOR = 1 / 16


@dataclass(frozen=True)
class PortalLimit:
    """A portal's configured limit: sustained requests per second, and the burst on top."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)) or self.burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1 (got {self.rate}, {self.burst})")


@dataclass(frozen=True)
class SlowDown:
    """The slow-down in force after a ``slow_down`` call (for logs and metrics)."""

    portal: str
    reason: str
    factor: float
    rate: float
    effective_rate: float
    remaining_s: float
    compounded: bool


@dataclass(frozen=True)
class RateChange:
    """This process observed the portal's effective rate change (slow-down or recovery)."""

    portal: str
    rate: float
    effective_rate: float
    factor: float


RateListener = Callable[[RateChange], None]


class RateLimiterUnavailable(PortalTransient):
    """The shared limiter (Redis) cannot be reached: the item is retried later."""

    def __init__(self, portal: str, cause: str) -> None:
        super().__init__(
            f"the shared rate limiter for {portal} is unreachable ({cause}); no request was "
            "sent and the item will be retried",
            portal=portal,
            code=ErrorCode.CONNECTION,
        )


class RateLimiter(Protocol):
    def acquire(self, portal: str) -> float:
        """Reserve the next send slot; answer the seconds to wait before sending (>= 0)."""
        ...

    def slow_down(self, portal: str, factor: float, duration_s: float, reason: str) -> SlowDown:
        """Multiply the portal's rate by ``factor`` for everyone for ``duration_s`` seconds."""
        ...

    def effective_rate(self, portal: str) -> float:
        """Requests per second in force now (the configured rate x any slow-down)."""
        ...


def limits_from_settings(settings: Settings) -> dict[str, PortalLimit]:
    return {
        Portal.TRACES.value: PortalLimit(settings.traces_rate_per_second, settings.traces_burst),
        Portal.ITPORTAL.value: PortalLimit(
            settings.itportal_rate_per_second, settings.itportal_burst
        ),
    }


def limit_of(limits: Mapping[str, PortalLimit], portal: str) -> PortalLimit:
    try:
        return limits[portal]
    except KeyError:
        known = ", ".join(sorted(limits)) or "none"
        raise KeyError(f"no rate limit configured for portal {portal!r} (known: {known})") from None


def check_slow_down_args(factor: float, duration_s: float) -> None:
    if not 0 < factor <= 1:
        raise ValueError(f"slow-down factor must be in (0, 1] (got {factor})")
    if not duration_s > 0:
        raise ValueError(f"slow-down duration must be > 0 s (got {duration_s})")


@dataclass(frozen=True)
class Reservation:
    send_at: float
    wait: float
    tat: float


def reserve(tat: float | None, now: float, interval: float, burst: int) -> Reservation:
    """One GCRA reservation: the send time of the next request and the new TAT."""
    base = now if tat is None else max(tat, now)
    send_at = max(now, base - (burst - 1) * interval)
    return Reservation(send_at=send_at, wait=send_at - now, tat=base + interval)


@dataclass(frozen=True)
class SlowState:
    factor: float
    since: float
    until: float


def combine_slow_down(
    current: SlowState | None,
    now: float,
    factor: float,
    duration_s: float,
    *,
    compound_after_s: float = DEFAULT_COMPOUND_AFTER_S,
    min_factor: float = DEFAULT_MIN_FACTOR,
) -> tuple[SlowState, bool]:
    """The slow-down after a new request for one (the Redis Lua script mirrors this)."""
    until, since, compounded = now + duration_s, now, False
    if current is not None and current.until > now:
        until = max(until, current.until)
        if now - current.since < compound_after_s:
            factor, since = min(current.factor, factor), current.since
        else:
            factor, compounded = current.factor * factor, True
    return SlowState(max(factor, min_factor), since, until), compounded


class RateWatch:
    """Remembers the factor this process last saw per portal; reports and logs changes.

    ``at`` orders observations (limiter clock): one older than the last is ignored, so
    racing threads never report a recovery that did not happen. The listener must not
    call back into the limiter.
    """

    def __init__(self, listener: RateListener | None) -> None:
        self._listener = listener
        self._seen: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def observe(self, portal: str, rate: float, factor: float, at: float) -> None:
        with self._lock:
            last_at, previous = self._seen.get(portal, (-math.inf, 1.0))
            if at < last_at:
                return
            self._seen[portal] = (at, factor)
        if math.isclose(previous, factor, rel_tol=1e-9):
            return
        if factor < previous:
            log.warning("%s rate slowed to %.3g req/s (x%.3g)", portal, rate * factor, factor)
        else:
            log.info("%s rate now %.3g req/s (x%.3g)", portal, rate * factor, factor)
        if self._listener is not None:
            self._listener(RateChange(portal, rate, rate * factor, factor))
