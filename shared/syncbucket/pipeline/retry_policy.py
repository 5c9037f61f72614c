"""When a failed attempt is tried again, and when it becomes the item's final failure.

Decided from the error class alone (docs/architecture.md §10), never from the message text::

    PortalTransient / SessionExpired   retry after exponential backoff with full jitter
      (timeouts, 5xx, 429, cut JSON)   in [retry_min_backoff, retry_max_backoff]; counts as an
                                       attempt; after ``max_attempts`` -> final failure with
                                       the last error code and the attempt count
    PortalRateLimited (429)            as transient, but never sooner than its Retry-After
    PortalMaintenance                  defer by Retry-After (or DEFAULT_MAINTENANCE_DELAY);
                                       NOT an attempt; once ``maintenance_max_defer_seconds``
                                       have passed since the first attempt -> final failure
                                       ``portal_maintenance``
    PortalPermanent, InvalidCredentials, AccountLocked, any other PortalError
                                       final failure at once
    an unexpected exception / the actor's time limit
                                       as transient (``internal_error`` / ``timed_out``)

No single delay exceeds ``MAX_SINGLE_DELAY_SECONDS``: a delayed message sits unacked on
RabbitMQ's ``<queue>.DQ`` consumer until it is due, and RabbitMQ closes a channel whose
delivery stays unacked past ``consumer_timeout`` (30 min by default in 3.13). A longer
maintenance deferral is simply chained: the next attempt meets the maintenance again and
defers again, which costs no attempt, and the defer limit is measured from the first
attempt, so the chain still ends at ``maintenance_max_defer``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from syncbucket.config import Settings
from syncbucket.portals.errors import (
    ErrorCode,
    PortalError,
    PortalMaintenance,
    PortalRateLimited,
    is_retryable,
)

DEFAULT_MAINTENANCE_DELAY = 300.0
# 20 min: well inside RabbitMQ's default consumer_timeout of 30 min (see the docstring).
MAX_SINGLE_DELAY_SECONDS = 1200.0
INTERNAL_ERROR = "internal_error"
TIMED_OUT = "timed_out"
_WILL_RETRY = re.compile(r";?\s*the (item|request) will be retried.*$", re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    """What went wrong, for a person (``message``) and for reports and metrics (``code``)."""

    code: str
    message: str


@dataclass(frozen=True)
class RetryDecision:
    """Try the item again after ``delay_seconds``; maintenance deferrals are not attempts."""

    delay_seconds: float
    counts_as_attempt: bool
    error: Failure


@dataclass(frozen=True)
class GiveUp:
    """The item has failed for good after ``attempts`` attempts."""

    error: Failure
    attempts: int


Decision = RetryDecision | GiveUp


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    min_backoff: float = 2.0
    max_backoff: float = 120.0
    maintenance_max_defer: float = 3600.0
    maintenance_default_delay: float = DEFAULT_MAINTENANCE_DELAY

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.max_attempts,
            min_backoff=settings.retry_min_backoff_seconds,
            max_backoff=max(settings.retry_max_backoff_seconds, settings.retry_min_backoff_seconds),
            maintenance_max_defer=settings.maintenance_max_defer_seconds,
        )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform between the minimum and ``min * 2**attempt`` (capped)."""
        ceiling = min(self.max_backoff, self.min_backoff * 2.0 ** min(attempt, 30))
        return rng.uniform(self.min_backoff, max(self.min_backoff, ceiling))

    def decide(
        self, error: PortalError, *, attempt: int, deferred_seconds: float, rng: random.Random
    ) -> Decision:
        """What to do after ``error`` ended attempt number ``attempt`` (1-based).

        ``deferred_seconds`` is the time since the item's first attempt started.
        """
        failure = Failure(str(error.code), error.message)
        if isinstance(error, PortalMaintenance):
            return self._defer(failure, error.retry_after, attempt, deferred_seconds)
        if not is_retryable(error):
            return GiveUp(failure, attempt)
        floor = error.retry_after if isinstance(error, PortalRateLimited) else None
        return self.transient(failure, attempt=attempt, rng=rng, floor=floor)

    def transient(
        self, failure: Failure, *, attempt: int, rng: random.Random, floor: float | None = None
    ) -> Decision:
        """Retry with backoff while attempts remain, else give up with the attempt count."""
        if attempt >= self.max_attempts:
            return GiveUp(exhausted(failure, attempt), attempt)
        delay = self.backoff(attempt, rng)
        if floor is not None:
            delay = max(delay, min(floor, self.max_backoff))
        delay = min(delay, MAX_SINGLE_DELAY_SECONDS)
        return RetryDecision(delay, counts_as_attempt=True, error=failure)

    def _defer(
        self, failure: Failure, retry_after: float | None, attempt: int, deferred: float
    ) -> Decision:
        remaining = self.maintenance_max_defer - deferred
        if remaining <= 0:
            message = (
                f"{_without_retry_note(failure.message)}; still down for maintenance after "
                f"{self.maintenance_max_defer:g} s, gave up (start a re-sync once it is back)"
            )
            return GiveUp(Failure(str(ErrorCode.MAINTENANCE), message), attempt)
        wanted = retry_after if retry_after is not None else self.maintenance_default_delay
        delay = min(max(wanted, self.min_backoff), remaining, MAX_SINGLE_DELAY_SECONDS)
        return RetryDecision(delay, counts_as_attempt=False, error=failure)


def exhausted(failure: Failure, attempts: int) -> Failure:
    """The last error, reworded as final: it no longer promises a retry."""
    noun = "attempt" if attempts == 1 else "attempts"
    message = f"{_without_retry_note(failure.message)}; gave up after {attempts} {noun}"
    return Failure(failure.code, message)


def _without_retry_note(message: str) -> str:
    return _WILL_RETRY.sub("", message).rstrip(" ;")
