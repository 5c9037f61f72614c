"""The httpx transport that paces every portal request and adapts to the portal's signals.

Wrapped around the real transport of a portal client (docs/architecture.md §3), it sees every
request,
captcha and login included:

- before sending: ``limiter.acquire(portal)`` reserves a slot; the transport sleeps the
  answered wait, then sends. The wait is never a retry. A wait longer than
  ``AdaptivePolicy.max_wait_s`` is still slept (the slot is reserved, so sending on it stays
  within the limit; giving it up would only turn waiting into a retry) but logged as a
  warning: it means more callers than the portal's rate serves, e.g. a pool too big for
  its limit or a deep slow-down. Each caller holds at most one reservation, so the wait is
  bounded by (concurrent callers) / (effective rate); the item time limit bounds the rest.
- after a 429: ``slow_down(portal, factor, clamp(Retry-After, min, max))`` for everyone;
- after ``error_burst`` 5xx within ``error_window_s`` in this process (a 503 carrying
  Retry-After is a maintenance notice, not overload, and is not counted): the same.

Hooks (all optional, called on the requesting thread, must not raise):
``on_wait(portal, wait_s)``, ``on_response(portal, status_class, duration_s)`` with
``status_class`` one of 2xx 3xx 4xx 429 5xx timeout connection_error, and
``on_slowdown(SlowDown)`` for each slow-down this process triggered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from syncbucket.portals.boundary import parse_retry_after
from syncbucket.ratelimit.bursts import ErrorBurstDetector
from syncbucket.ratelimit.limiter import RateLimiter, RateLimiterUnavailable, SlowDown

log = logging.getLogger("syncbucket.ratelimit")

WaitHook = Callable[[str, float], None]
ResponseHook = Callable[[str, str, float], None]
SlowDownHook = Callable[[SlowDown], None]

REASON_429 = "429"
REASON_5XX = "5xx_burst"


@dataclass(frozen=True)
class AdaptivePolicy:
    """How hard and how long a portal signal slows the shared bucket down."""

    factor: float = 0.5
    min_duration_s: float = 30.0
    max_duration_s: float = 300.0
    error_burst: int = 5
    error_window_s: float = 10.0
    max_wait_s: float = 60.0

    def duration_for(self, retry_after: float | None) -> float:
        wanted = max(retry_after or 0.0, self.min_duration_s)
        return min(wanted, self.max_duration_s)


def status_class(status: int) -> str:
    return "429" if status == 429 else f"{min(max(status // 100, 1), 5)}xx"


class RateLimitedTransport(httpx.BaseTransport):
    """Paces ``inner`` with ``limiter`` for one portal. Thread-safe if ``inner`` is."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        limiter: RateLimiter,
        portal: str,
        *,
        policy: AdaptivePolicy | None = None,
        errors: ErrorBurstDetector | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        on_wait: WaitHook | None = None,
        on_response: ResponseHook | None = None,
        on_slowdown: SlowDownHook | None = None,
    ) -> None:
        self._inner = inner
        self._limiter = limiter
        self._portal = portal
        self._policy = policy or AdaptivePolicy()
        self._errors = errors or ErrorBurstDetector(
            self._policy.error_burst, self._policy.error_window_s, clock=clock
        )
        self._sleep = sleep
        self._clock = clock
        self._on_wait = on_wait
        self._on_response = on_response
        self._on_slowdown = on_slowdown

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._pace()
        started = self._clock()
        try:
            response = self._inner.handle_request(request)
        except httpx.TimeoutException:
            self._observed("timeout", started)
            raise
        except httpx.TransportError:
            self._observed("connection_error", started)
            raise
        self._observed(status_class(response.status_code), started)
        self._adapt(response)
        return response

    def close(self) -> None:
        self._inner.close()

    def _pace(self) -> None:
        wait = self._limiter.acquire(self._portal)
        if wait > self._policy.max_wait_s:
            log.warning(
                "%s: waiting %.1f s for a rate-limit slot (over the %.0f s bound): more "
                "callers than the rate serves",
                self._portal,
                wait,
                self._policy.max_wait_s,
            )
        if self._on_wait is not None:
            self._on_wait(self._portal, wait)
        if wait > 0:
            self._sleep(wait)

    def _observed(self, kind: str, started: float) -> None:
        if self._on_response is not None:
            self._on_response(self._portal, kind, self._clock() - started)

    def _adapt(self, response: httpx.Response) -> None:
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        policy = self._policy
        if status == 429:
            self._slow(REASON_429, policy.duration_for(retry_after), f"HTTP 429{_ra(retry_after)}")
        elif _overload(status, retry_after) and self._errors.record():
            trigger = f"{policy.error_burst} server errors within {policy.error_window_s:g} s"
            self._slow(REASON_5XX, policy.min_duration_s, trigger)

    def _slow(self, reason: str, duration_s: float, trigger: str) -> None:
        try:
            change = self._limiter.slow_down(self._portal, self._policy.factor, duration_s, reason)
        except RateLimiterUnavailable as exc:
            log.error("%s: %s; could not slow the shared rate down: %s", self._portal, trigger, exc)
            return
        log.warning(
            "%s: %s; shared rate now %.3g req/s (x%.3g) for %.0f s%s",
            self._portal,
            trigger,
            change.effective_rate,
            change.factor,
            change.remaining_s,
            " (compounded)" if change.compounded else "",
        )
        if self._on_slowdown is not None:
            self._on_slowdown(change)


def _overload(status: int, retry_after: float | None) -> bool:
    """A 5xx that signals overload; a 503 with Retry-After announces maintenance instead."""
    return status >= 500 and not (status == 503 and retry_after is not None)


def _ra(retry_after: float | None) -> str:
    return "" if retry_after is None else f" (Retry-After {retry_after:g} s)"
