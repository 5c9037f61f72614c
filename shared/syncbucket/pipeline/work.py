"""The worker side of the pipeline: one attempt at one item (docs/pipeline.md).

``process_work`` marks the item running (from pending, queued or running), loads the
client's TAN and credentials for the portal, fetches the module part (reusing the
client's portal session) and answers with one of:

- an :class:`OutcomeMessage` -- final: succeeded with its records, or failed with an error
  code and a message a person can act on;
- a :class:`RetryDecision` -- try again after ``delay_seconds`` (the item is parked back
  in ``queued`` with a deadline past the retry); maintenance does not count as an attempt;
- :class:`NotRunnable` -- the item was cancelled or already finished, or its run is being
  cancelled (the item is then cancelled, see ``mark_running``): no outcome at all.

It never sends anything; the messaging layer (``syncbucket.messaging.worker_actor``)
delivers the answer and, once a final outcome is confirmed, calls :func:`note_reported`.
Messages carry no credentials and nothing here logs them.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.crypto import CredentialCipher
from syncbucket.db.base import utcnow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain import records as r
from syncbucket.pipeline import record_codec
from syncbucket.pipeline.login_guard import InProcessLoginGuard, LoginGuard
from syncbucket.pipeline.portal_fetch import (
    LoginRefusedEarlier,
    fetch_records,
    forget_session,
    remember_refusal,
)
from syncbucket.pipeline.retry_policy import Decision, Failure, GiveUp, RetryDecision, RetryPolicy
from syncbucket.pipeline.work_items import (
    deadline_after,
    load_target,
    mark_reported,
    mark_running,
    park_for_retry,
)
from syncbucket.portals.errors import InvalidCredentials, PortalError
from syncbucket.ratelimit.factory import portal_transports
from syncbucket.sessions.breaker import LoginHook
from syncbucket.sessions.cache import SessionCache
from syncbucket.sessions.factory import build_login_guard, build_session_cache
from syncbucket.sessions.memory_cache import InMemorySessionCache

log = logging.getLogger(__name__)

# Room for the worker to report after its time limit before the reaper may step in.
DEADLINE_MARGIN_SECONDS = 60.0
# After a final outcome is confirmed into the (durable) results queue, the reaper waits at
# least this long (or item_queued_timeout_seconds, if longer) for the aggregator to apply
# it. The outcome is not lost there, so the wait only delays the safety net for an outcome
# the aggregator dead-lettered, and it rides out an aggregator backlog or outage.
REPORTED_GRACE_SECONDS = 3600.0


@dataclass(frozen=True)
class Attempt:
    """Which attempt this is (1-based) and when the item's first attempt started."""

    number: int
    first_started_at: datetime


@dataclass(frozen=True)
class NotRunnable:
    reason: str


WorkResult = OutcomeMessage | RetryDecision | NotRunnable


@dataclass(frozen=True)
class WorkDeps:
    settings: Settings
    sessions: SessionFactory
    cipher: CredentialCipher
    session_cache: SessionCache = field(default_factory=InMemorySessionCache)
    login_guard: LoginGuard = field(default_factory=InProcessLoginGuard)
    policy: RetryPolicy | None = None  # None: RetryPolicy.from_settings(settings)
    # Shared per-portal transports (connection pools, rate limiting); ``transport`` is the
    # fallback for a portal without one (tests: a MockTransport for every portal).
    transports: Mapping[str, httpx.BaseTransport] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    # Told (portal, result) of each login tried or skipped (metrics); must not raise.
    on_login: LoginHook | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        sessions: SessionFactory,
        cipher: CredentialCipher,
        *,
        transports: Mapping[str, httpx.BaseTransport] | None = None,
        on_login: LoginHook | None = None,
    ) -> WorkDeps:
        """The footprint's edge: Redis session cache, lockout guard and shared rate limit
        when ``SYNCBUCKET_REDIS_URL`` is set, in-process equivalents otherwise.

        ``transports`` defaults to :func:`syncbucket.ratelimit.portal_transports` (pass
        your own to add metrics hooks or a different adaptive policy).
        """
        return cls(
            settings=settings,
            sessions=sessions,
            cipher=cipher,
            session_cache=build_session_cache(settings, cipher),
            login_guard=build_login_guard(settings),
            transports=portal_transports(settings) if transports is None else transports,
            on_login=on_login,
        )

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.policy or RetryPolicy.from_settings(self.settings)


def process_work(deps: WorkDeps, message: WorkMessage, attempt: Attempt) -> WorkResult:
    """One attempt at ``message``'s item; see the module docstring for the answers."""
    started = time.monotonic()
    now = deps.clock()
    limit = running_deadline_seconds(deps.settings)
    with unit_of_work(deps.sessions) as session:
        if not mark_running(session, message, attempt.number, now, deadline_after(now, limit)):
            return NotRunnable(
                f"item {message.item_id} is no longer queued or running, or its run is "
                "being cancelled"
            )
        target = load_target(session, message, deps.cipher)
    if isinstance(target, Failure):
        return failed_outcome(message, attempt.number, target, started)
    refused = deps.login_guard.refusal(message.run_id, message.client_id, message.portal)
    if refused is not None:
        if deps.on_login is not None:
            deps.on_login(message.portal, "skipped_breaker")
        return failed_outcome(message, attempt.number, refused, started)
    try:
        records = fetch_records(
            message,
            target,
            settings=deps.settings,
            cache=deps.session_cache,
            guard=deps.login_guard,
            transport=deps.transports.get(message.portal, deps.transport),
            on_login=deps.on_login,
        )
    except LoginRefusedEarlier as exc:
        return failed_outcome(message, attempt.number, exc.failure, started)
    except PortalError as exc:
        return _after_portal_error(deps, message, attempt, exc, started)
    return succeeded_outcome(message, attempt.number, records, started)


def running_deadline_seconds(settings: Settings) -> float:
    """How long a running item may go unreported before the reaper may step in."""
    return max(
        settings.item_time_limit_seconds + DEADLINE_MARGIN_SECONDS,
        settings.item_running_timeout_seconds,
    )


def reported_grace_seconds(settings: Settings) -> float:
    """How long the reaper leaves an item alone once its final outcome was sent."""
    return max(REPORTED_GRACE_SECONDS, settings.item_queued_timeout_seconds)


def note_reported(deps: WorkDeps, message: WorkMessage) -> None:
    """Call after the final outcome was enqueued (and confirmed): push the item's deadline
    by :func:`reported_grace_seconds` so the reaper does not re-release or time it out
    while the outcome waits in the results queue. Best effort: a failure is logged.
    """
    deadline = deadline_after(deps.clock(), reported_grace_seconds(deps.settings))
    try:
        with unit_of_work(deps.sessions) as session:
            mark_reported(session, message, deadline)
    except SQLAlchemyError as exc:
        log.warning(
            "item %s: outcome sent, but its deadline could not be pushed (%s)",
            message.item_id,
            type(exc).__name__,
        )


def after_unexpected(
    deps: WorkDeps, message: WorkMessage, attempt: Attempt, failure: Failure, started: float
) -> OutcomeMessage | RetryDecision:
    """An unexpected exception or the time limit: retried like a transient error."""
    decision = deps.retry_policy.transient(failure, attempt=attempt.number, rng=deps.rng)
    return _resolve(deps, message, decision, started)


def _after_portal_error(
    deps: WorkDeps, message: WorkMessage, attempt: Attempt, error: PortalError, started: float
) -> OutcomeMessage | RetryDecision:
    if isinstance(error, InvalidCredentials):  # best effort: the rejection must stay final
        remember_refusal(deps.login_guard, message, error)
        forget_session(deps.session_cache, message)
    deferred = (deps.clock() - attempt.first_started_at).total_seconds()
    decision = deps.retry_policy.decide(
        error, attempt=attempt.number, deferred_seconds=deferred, rng=deps.rng
    )
    log.info(
        "item %s (%s on %s) attempt %s: %s",
        message.item_id,
        message.module,
        message.portal,
        attempt.number,
        error.code,
    )
    return _resolve(deps, message, decision, started)


def _resolve(
    deps: WorkDeps, message: WorkMessage, decision: Decision, started: float
) -> OutcomeMessage | RetryDecision:
    if isinstance(decision, GiveUp):
        return failed_outcome(message, decision.attempts, decision.error, started)
    waiting = decision.delay_seconds + deps.settings.item_queued_timeout_seconds
    with unit_of_work(deps.sessions) as session:
        park_for_retry(session, message, deadline_after(deps.clock(), waiting))
    return decision


def failed_outcome(
    message: WorkMessage, attempts: int, failure: Failure, started: float
) -> OutcomeMessage:
    return OutcomeMessage(
        item_id=message.item_id,
        run_id=message.run_id,
        status="failed",
        attempts=attempts,
        error_code=failure.code,
        error_message=failure.message,
        duration_seconds=round(time.monotonic() - started, 3),
    )


def succeeded_outcome(
    message: WorkMessage, attempts: int, records: Sequence[r.Record], started: float
) -> OutcomeMessage:
    return OutcomeMessage(
        item_id=message.item_id,
        run_id=message.run_id,
        status="succeeded",
        attempts=attempts,
        records=record_codec.encode_all(records),
        duration_seconds=round(time.monotonic() - started, 3),
    )
