"""What the actors run: one attempt at a work item, or recording one outcome.

Retries are implemented here, not by Dramatiq's ``Retries`` middleware: on a
:class:`RetryDecision` the wrapper enqueues a *copy* of the work message with
``delay=`` and explicit options ``syncbucket_attempt`` (the attempt number, advanced only
when the decision counts as an attempt) and ``syncbucket_first_attempt_at``, then returns
normally so the original is acknowledged. ``Retries`` would bump its ``retries`` counter on
every redelivery, so a maintenance deferral would burn an attempt; and it cannot tell
"defer 30 minutes for maintenance" from "back off 4 s". The enqueue is confirmed before
the actor returns (RabbitMQ publisher confirms), so the chain is never lost; a crash in
between only duplicates it, which the outcome's uniqueness absorbs.

Whatever happens, a final outcome is sent: portal errors through the retry policy;
``TimeLimitExceeded`` and any unexpected exception are retried like transient errors and,
on the last attempt, become a failed outcome (``timed_out`` / ``internal_error``). Only
when reporting itself fails (broker or database unreachable) does the exception escape,
and then ``Retries`` runs the message again (same attempt number) after a backoff.

Once a final outcome is enqueued, the item's deadline is pushed (``note_reported``) so
the reaper leaves it alone while the outcome waits for the aggregator.

A malformed message raises :class:`MalformedMessage`, which the actors list in ``throws``:
Dramatiq logs it, does not retry it and dead-letters it (RabbitMQ ``<queue>.XQ``). When
its ``item_id`` and ``run_id`` can still be read (an unknown module or portal, the wrong
queue, a schema this worker does not know), a failed outcome ``invalid_message`` is sent
first, so the item fails at once with a message saying what to check, instead of being
reaped as ``timed_out`` much later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
from dramatiq.common import q_name
from dramatiq.middleware import CurrentMessage, TimeLimitExceeded
from pydantic import BaseModel, ConfigDict, ValidationError

from syncbucket.contracts.messages import OutcomeMessage, WorkMessage
from syncbucket.db.base import utcnow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.logs import log_context
from syncbucket.messaging.broker import portal_queue
from syncbucket.messaging.envelopes import (
    ATTEMPT_OPTION,
    FIRST_ATTEMPT_OPTION,
    MalformedMessage,
    outcome_envelope,
    parse_outcome,
    parse_work,
    work_envelope,
)
from syncbucket.messaging.log_fields import ClientTans
from syncbucket.metrics import record
from syncbucket.pipeline.aggregator import DEFAULT_PROGRESS_EVERY, ApplyResult, apply_outcome
from syncbucket.pipeline.retry_policy import INTERNAL_ERROR, TIMED_OUT, Failure, RetryDecision
from syncbucket.pipeline.work import (
    Attempt,
    NotRunnable,
    WorkDeps,
    WorkResult,
    after_unexpected,
    note_reported,
    process_work,
)
from syncbucket.portals.http import portal_name
from syncbucket.portals.registry import part

log = logging.getLogger(__name__)

INVALID_MESSAGE = "invalid_message"


class _ItemRef(BaseModel):
    """Just enough of a work message to name its item."""

    model_config = ConfigDict(extra="ignore")

    item_id: int
    run_id: int


def current_delivery() -> tuple[str | None, Mapping[str, Any]]:
    """The queue (canonical name) and options of the message being processed, if any."""
    message = CurrentMessage.get_current_message()
    if message is None:
        return None, {}
    return q_name(message.queue_name), message.options


def attempt_from(options: Mapping[str, Any], now: datetime) -> Attempt:
    """The attempt this delivery is, from our options (absent on the first delivery)."""
    number = options.get(ATTEMPT_OPTION)
    first = options.get(FIRST_ATTEMPT_OPTION)
    return Attempt(
        number=number if isinstance(number, int) and number >= 1 else 1,
        first_started_at=(
            datetime.fromtimestamp(first, UTC)
            if isinstance(first, int | float) and first > 0
            else now
        ),
    )


def checked_work(kwargs: Mapping[str, Any], queue: str | None) -> WorkMessage:
    """A WorkMessage for a module part that exists, on the queue of its portal."""
    work = parse_work(kwargs)
    try:
        part(work.module, work.portal)
    except (ValueError, LookupError) as exc:
        raise MalformedMessage(f"item {work.item_id}: {exc}") from None
    if queue is not None and queue != portal_queue(work.portal):
        raise MalformedMessage(
            f"item {work.item_id} is for {work.portal} but was sent to queue {queue}"
        )
    return work


def invalid_message_outcome(
    kwargs: Mapping[str, Any], queue: str | None, problem: MalformedMessage
) -> OutcomeMessage | None:
    """A failed outcome for a work message that cannot run, if it names its item."""
    try:
        ref = _ItemRef.model_validate(dict(kwargs))
    except ValidationError:
        return None
    served = f"the {queue} workers" if queue else "the portal workers"
    return OutcomeMessage(
        item_id=ref.item_id,
        run_id=ref.run_id,
        status="failed",
        attempts=0,
        error_code=INVALID_MESSAGE,
        error_message=(
            f"the work message for this item could not be processed ({problem}), so nothing "
            "was fetched. This points to a deployment problem: check that the coordinator "
            f"and {served} run the same SyncBucket version, then use 're-sync failed'"
        ),
    )


class WorkActor:
    """The body of ``sync_<portal>_item``: one attempt, then deliver what it decided."""

    def __init__(self, deps: WorkDeps, broker: dramatiq.Broker) -> None:
        self._deps = deps
        self._broker = broker
        self._tans = ClientTans(deps.sessions)

    def __call__(self, kwargs: Mapping[str, Any]) -> None:
        queue, options = current_delivery()
        try:
            work = checked_work(kwargs, queue)
        except MalformedMessage as exc:
            log.error("dropping a malformed work message (dead-lettered): %s", exc)
            self._fail_invalid(kwargs, queue, exc)
            raise
        attempt = attempt_from(options, self._deps.clock())
        context = log_context(
            run_id=work.run_id,
            item_id=work.item_id,
            client_tan=self._tans.get(work.client_id),
            portal=work.portal,
            module=work.module,
            attempt=attempt.number,
        )
        with context:
            started = time.monotonic()
            result = self._attempt(work, attempt)
            if not isinstance(result, NotRunnable):
                record.item_attempt(work.portal, work.module, time.monotonic() - started)
            self._deliver(work, attempt, result)

    def _fail_invalid(
        self, kwargs: Mapping[str, Any], queue: str | None, problem: MalformedMessage
    ) -> None:
        outcome = invalid_message_outcome(kwargs, queue, problem)
        if outcome is None:
            return
        self._broker.enqueue(outcome_envelope(outcome))
        log.error("item %s failed as %s", outcome.item_id, INVALID_MESSAGE)

    def _attempt(self, work: WorkMessage, attempt: Attempt) -> WorkResult:
        started = time.monotonic()
        try:
            return process_work(self._deps, work, attempt)
        except TimeLimitExceeded:
            limit = self._deps.settings.item_time_limit_seconds
            failure = Failure(
                TIMED_OUT,
                f"fetching {work.module} from {portal_name(work.portal)} took longer than "
                f"{limit:g} s",
            )
        except Exception:
            log.exception("item %s: unexpected error on attempt %s", work.item_id, attempt.number)
            failure = Failure(
                INTERNAL_ERROR,
                f"an unexpected error stopped the sync of {work.module} "
                f"(item {work.item_id}); the worker log has the details",
            )
        return after_unexpected(self._deps, work, attempt, failure, started)

    def _deliver(self, work: WorkMessage, attempt: Attempt, result: WorkResult) -> None:
        if isinstance(result, OutcomeMessage):
            self._broker.enqueue(outcome_envelope(result))
            note_reported(self._deps, work)
            record.item_finished(work.portal, work.module, result.status, result.error_code)
            with log_context(error_code=result.error_code):
                log.info(
                    "item %s %s after %s attempt(s)%s",
                    work.item_id,
                    result.status,
                    result.attempts,
                    f": {result.error_code}" if result.error_code else "",
                )
        elif isinstance(result, RetryDecision):
            self._retry(work, attempt, result)
        else:
            log.info("item %s skipped: %s", work.item_id, result.reason)

    def _retry(self, work: WorkMessage, attempt: Attempt, decision: RetryDecision) -> None:
        number = attempt.number + 1 if decision.counts_as_attempt else attempt.number
        options = {
            ATTEMPT_OPTION: number,
            FIRST_ATTEMPT_OPTION: attempt.first_started_at.timestamp(),
        }
        delay_ms = max(1, int(decision.delay_seconds * 1000))
        self._broker.enqueue(work_envelope(work, options), delay=delay_ms)
        record.retry_scheduled(work.portal, decision.error.code)
        with log_context(error_code=decision.error.code):
            self._log_retry(work, decision, number)

    @staticmethod
    def _log_retry(work: WorkMessage, decision: RetryDecision, number: int) -> None:
        log.info(
            "item %s: %s; %s in %.1f s (attempt %s next)",
            work.item_id,
            decision.error.code,
            "retrying" if decision.counts_as_attempt else "deferring",
            decision.delay_seconds,
            number,
        )


class OutcomeRecorder:
    """The body of ``record_outcome``: apply one outcome in one transaction.

    Dramatiq acknowledges the message only after this returns, i.e. after the commit; a
    redelivered outcome is a no-op (``apply_outcome`` is idempotent per item).
    """

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Callable[[], datetime] = utcnow,
        *,
        progress_every: timedelta = DEFAULT_PROGRESS_EVERY,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._progress_every = progress_every

    def __call__(self, kwargs: Mapping[str, Any]) -> None:
        try:
            outcome = parse_outcome(kwargs)
        except MalformedMessage as exc:
            log.error("dropping a malformed outcome message (dead-lettered): %s", exc)
            raise
        context = log_context(
            run_id=outcome.run_id, item_id=outcome.item_id, error_code=outcome.error_code
        )
        with context:
            with unit_of_work(self._sessions) as session:
                result = apply_outcome(
                    session, outcome, self._clock(), progress_every=self._progress_every
                )
            record.outcome_applied(result.applied)
            self._log(outcome, result)

    @staticmethod
    def _log(outcome: OutcomeMessage, result: ApplyResult) -> None:
        log.info(
            "outcome of item %s (%s): applied=%s completed=%s",
            outcome.item_id,
            outcome.status,
            result.applied,
            result.completed,
        )
