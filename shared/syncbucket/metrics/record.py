"""One call per fact: what the pipeline, workers and services call to update metrics.

Each function maps its arguments onto the catalogue's bounded label sets (unknown values
become ``other``), so a caller can never create an id-like label by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncbucket.metrics import labels as lb
from syncbucket.metrics.state import get_metrics

_TOKEN = re.compile(r"^[a-z0-9_.]{1,48}$")


def _token(value: object) -> str:
    """A free-form but token-shaped label (event type, rejection reason), else ``other``."""
    text = str(getattr(value, "value", value))
    return text if _TOKEN.match(text) else lb.OTHER


# --- workers -------------------------------------------------------------------------


def init_worker_series(portal: str) -> None:
    """Create a pool's series at zero so ``rate()`` and alerts see the first increment."""
    from syncbucket.portals.registry import modules_for

    m, p = get_metrics(), lb.bounded(portal, lb.PORTALS)
    for module in modules_for(p):
        m.item_duration.labels(p, module.value)
        # Every (outcome, error_code) pair item_finished can produce, so the first failure
        # of a kind is seen by rate(): per module 2 + |ITEM_ERROR_CODES| + other series.
        for outcome in sorted(lb.ITEM_OUTCOMES - {"failed"}):
            m.items_processed.labels(p, module.value, outcome, lb.NO_ERROR)
        for code in sorted(lb.ITEM_ERROR_CODES | {lb.OTHER}):
            m.items_processed.labels(p, module.value, "failed", code)
    for status in lb.STATUS_CLASSES:
        m.portal_requests.labels(p, status)
    for result in lb.LOGIN_RESULTS:
        m.logins.labels(p, result)
    for reason in lb.ERROR_REASONS:
        m.retries.labels(p, reason)
    for slowdown in lb.SLOWDOWN_REASONS:
        m.ratelimit_slowdowns.labels(p, slowdown)
    m.portal_request_duration.labels(p)
    m.ratelimit_wait.labels(p)


def item_attempt(portal: str, module: str, seconds: float) -> None:
    get_metrics().item_duration.labels(
        lb.bounded(portal, lb.PORTALS), lb.bounded(module, lb.MODULES)
    ).observe(seconds)


def item_finished(portal: str, module: str, outcome: str, error_code: str | None = None) -> None:
    """An item's final outcome; ``error_code`` is its failure code (ignored unless failed),
    mapped onto :data:`~syncbucket.metrics.labels.ITEM_ERROR_CODES` so it stays bounded."""
    bounded_outcome = lb.bounded(outcome, lb.ITEM_OUTCOMES)
    get_metrics().items_processed.labels(
        lb.bounded(portal, lb.PORTALS),
        lb.bounded(module, lb.MODULES),
        bounded_outcome,
        lb.item_error_code(bounded_outcome, error_code),
    ).inc()


def portal_request(portal: str, result: int | str, seconds: float | None) -> None:
    """``result``: the HTTP status, or ``"timeout"`` / ``"connection_error"``."""
    m, p = get_metrics(), lb.bounded(portal, lb.PORTALS)
    klass = lb.status_class(result) if isinstance(result, int) else result
    m.portal_requests.labels(p, lb.bounded(klass, lb.STATUS_CLASSES)).inc()
    if seconds is not None:
        m.portal_request_duration.labels(p).observe(seconds)


def ratelimit_wait(portal: str, seconds: float) -> None:
    get_metrics().ratelimit_wait.labels(lb.bounded(portal, lb.PORTALS)).observe(seconds)


def ratelimit_rates(portal: str, limit_per_second: float, effective_per_second: float) -> None:
    m, p = get_metrics(), lb.bounded(portal, lb.PORTALS)
    m.ratelimit_limit.labels(p).set(limit_per_second)
    m.ratelimit_effective.labels(p).set(effective_per_second)


def ratelimit_slowdown(portal: str, reason: str) -> None:
    get_metrics().ratelimit_slowdowns.labels(
        lb.bounded(portal, lb.PORTALS), lb.bounded(reason, lb.SLOWDOWN_REASONS)
    ).inc()


def retry_scheduled(portal: str, reason: str) -> None:
    get_metrics().retries.labels(
        lb.bounded(portal, lb.PORTALS), lb.bounded(reason, lb.ERROR_REASONS)
    ).inc()


def login(portal: str, result: str) -> None:
    get_metrics().logins.labels(
        lb.bounded(portal, lb.PORTALS), lb.bounded(result, lb.LOGIN_RESULTS)
    ).inc()


# --- coordinator ---------------------------------------------------------------------


@dataclass(frozen=True)
class PortalBacklog:
    """What the dispatcher saw for one portal in one tick."""

    portal: str
    pending: int
    inflight: int
    window: int


def init_coordinator_series() -> None:
    """The coordinator's counters at zero: every portal, reaper action, lease change and
    schedule fire outcome; not leading until the lease says otherwise."""
    from syncbucket.db.schedules import FireOutcome

    m = get_metrics()
    for portal in sorted(lb.PORTALS):
        m.items_released.labels(portal)
    for action in sorted(lb.REAPER_ACTIONS):
        m.reaper_actions.labels(action)
    for change in ("acquired", "lost"):
        m.leader_changes.labels(change)
    for outcome in FireOutcome:
        m.schedule_fires.labels(outcome.value)
    m.leader.set(0)


def dispatcher_tick(backlogs: Iterable[PortalBacklog]) -> None:
    """Set the backlog gauges; a portal missing from ``backlogs`` is reported as empty."""
    m = get_metrics()
    seen = {lb.bounded(b.portal, lb.PORTALS): b for b in backlogs}
    for portal in sorted(lb.PORTALS):
        backlog = seen.get(portal)
        m.dispatcher_pending.labels(portal).set(backlog.pending if backlog else 0)
        m.dispatcher_inflight.labels(portal).set(backlog.inflight if backlog else 0)
        if backlog is not None:
            m.dispatcher_window.labels(portal).set(backlog.window)


def items_released(portal: str, count: int) -> None:
    get_metrics().items_released.labels(lb.bounded(portal, lb.PORTALS)).inc(count)


def queue_depths(depths: Mapping[str, int]) -> None:
    """RabbitMQ depths by queue name; names outside the system's queues are ignored."""
    m = get_metrics()
    for queue, depth in depths.items():
        if queue in lb.QUEUES:
            m.queue_messages.labels(queue).set(depth)


def runs_progress(active: int, max_seconds_since_progress: float) -> None:
    m = get_metrics()
    m.runs_active.set(active)
    m.runs_max_seconds_since_progress.set(max_seconds_since_progress)


def reaper_action(action: str, count: int = 1) -> None:
    if count:
        get_metrics().reaper_actions.labels(lb.bounded(action, lb.REAPER_ACTIONS)).inc(count)


def request_rejected(reason: str) -> None:
    get_metrics().requests_rejected.labels(_token(reason)).inc()


def init_request_series(event_types: Iterable[str]) -> None:
    """The request consumer's counters at zero: results, reasons and the answers' types."""
    from syncbucket.intake.rejections import ALL_REASONS

    m = get_metrics()
    for result in ("created", "existing"):
        m.requests_accepted.labels(result)
    for reason in ALL_REASONS:
        m.requests_rejected.labels(reason)
    for event_type in event_types:
        m.events_published.labels(_token(event_type))


def request_accepted(created: bool) -> None:
    """``created``: a new run; else the request named a run that already existed."""
    get_metrics().requests_accepted.labels("created" if created else "existing").inc()


def leader_state(leading: bool) -> None:
    get_metrics().leader.set(1 if leading else 0)


def leader_change(change: str) -> None:
    """``acquired`` or ``lost``."""
    get_metrics().leader_changes.labels(_token(change)).inc()


def schedule_fired(outcome: str) -> None:
    get_metrics().schedule_fires.labels(_token(outcome)).inc()


# --- aggregator ----------------------------------------------------------------------


def init_aggregator_series(event_types: Iterable[str]) -> None:
    """The aggregator's counters and histograms at zero, for every bounded label value."""
    m = get_metrics()
    for status in sorted(lb.FINAL_RUN_STATUSES):
        m.runs_completed.labels(status)
        m.run_duration.labels(status)
    for result in sorted(lb.APPLY_RESULTS):
        m.outcomes_applied.labels(result)
    for event_type in event_types:
        m.events_published.labels(_token(event_type))
        m.events_publish_failures.labels(_token(event_type))
    m.outbox_pending.set(0)
    m.outbox_oldest_age.set(0)


def outcome_applied(applied: bool) -> None:
    get_metrics().outcomes_applied.labels("applied" if applied else "duplicate").inc()


def run_completed(status: str, duration_seconds: float) -> None:
    m, s = get_metrics(), lb.bounded(status, lb.FINAL_RUN_STATUSES)
    m.runs_completed.labels(s).inc()
    m.run_duration.labels(s).observe(duration_seconds)


def event_published(event_type: str, count: int = 1) -> None:
    get_metrics().events_published.labels(_token(event_type)).inc(count)


def event_publish_failed(event_type: str) -> None:
    get_metrics().events_publish_failures.labels(_token(event_type)).inc()


def outbox_state(pending: int, oldest_pending_age_seconds: float) -> None:
    m = get_metrics()
    m.outbox_pending.set(pending)
    m.outbox_oldest_age.set(oldest_pending_age_seconds)
