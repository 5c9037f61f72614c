"""Every metric of docs/metrics.md, built on a registry.

Importing this module imports prometheus_client: do it only through
:func:`syncbucket.metrics.get_metrics` (or in tests), after multi-process mode is set up.

Gauge multi-process modes (how ``/metrics`` of a pool combines its processes' values):
every SyncBucket gauge reports *shared* state that one process observed (a DB count, a
RabbitMQ depth, the rate in force in Redis), so summing processes would multiply it.
``mostrecent`` keeps the latest observation; ``max`` fits the configured limit, which
every process reports alike. ``livesum`` is for per-process contributions (Dramatiq's
in-progress messages); SyncBucket has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

ITEM_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
REQUEST_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
WAIT_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
RUN_BUCKETS = (
    *(10.0, 30.0, 60.0, 120.0, 300.0, 600.0),
    *(1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0),
)


@dataclass(frozen=True)
class SyncBucketMetrics:
    # workers
    items_processed: Counter
    item_duration: Histogram
    portal_requests: Counter
    portal_request_duration: Histogram
    ratelimit_wait: Histogram
    ratelimit_limit: Gauge
    ratelimit_effective: Gauge
    ratelimit_slowdowns: Counter
    retries: Counter
    logins: Counter
    # coordinator
    dispatcher_pending: Gauge
    dispatcher_inflight: Gauge
    dispatcher_window: Gauge
    items_released: Counter
    queue_messages: Gauge
    runs_active: Gauge
    runs_max_seconds_since_progress: Gauge
    reaper_actions: Counter
    requests_rejected: Counter
    requests_accepted: Counter
    leader: Gauge
    leader_changes: Counter
    schedule_fires: Counter
    # aggregator
    runs_completed: Counter
    run_duration: Histogram
    outcomes_applied: Counter
    events_published: Counter
    events_publish_failures: Counter
    outbox_pending: Gauge
    outbox_oldest_age: Gauge


@dataclass(frozen=True)
class Spec:
    """One metric of the catalogue: the field it fills and how prometheus_client builds it."""

    field: str
    kind: str  # counter, gauge, histogram
    name: str
    doc: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    mode: str = "mostrecent"  # gauges: how a pool's processes combine


P = ("portal",)
C, G, H = "counter", "gauge", "histogram"
SPECS: tuple[Spec, ...] = (
    # workers
    Spec("items_processed", C, "syncbucket_items_processed_total",
         "Items finished by a worker.", ("portal", "module", "outcome", "error_code")),
    Spec("item_duration", H, "syncbucket_item_duration_seconds",
         "Wall time of one attempt of one item.", ("portal", "module"), ITEM_BUCKETS),
    Spec("portal_requests", C, "syncbucket_portal_requests_total",
         "HTTP requests to a portal by status class.", ("portal", "status_class")),
    Spec("portal_request_duration", H, "syncbucket_portal_request_duration_seconds",
         "Portal response time.", P, REQUEST_BUCKETS),
    Spec("ratelimit_wait", H, "syncbucket_ratelimit_wait_seconds",
         "Time a request waited for a rate-limit token.", P, WAIT_BUCKETS),
    Spec("ratelimit_limit", G, "syncbucket_ratelimit_limit_per_second",
         "Configured request rate.", P, mode="max"),
    Spec("ratelimit_effective", G, "syncbucket_ratelimit_effective_per_second",
         "Request rate in force after adaptive slow-down.", P),
    Spec("ratelimit_slowdowns", C, "syncbucket_ratelimit_slowdowns_total",
         "Adaptive slow-downs.", ("portal", "reason")),
    Spec("retries", C, "syncbucket_retries_total",
         "Retries scheduled, by error code.", ("portal", "reason")),
    Spec("logins", C, "syncbucket_logins_total", "Portal logins.", ("portal", "result")),
    # coordinator
    Spec("dispatcher_pending", G, "syncbucket_dispatcher_pending_items",
         "Items waiting to be released (backlog).", P),
    Spec("dispatcher_inflight", G, "syncbucket_dispatcher_inflight_items",
         "Items queued or running.", P),
    Spec("dispatcher_window", G, "syncbucket_dispatcher_window_items",
         "The in-flight cap per portal.", P),
    Spec("items_released", C, "syncbucket_items_released_total",
         "Items released to the portal queues.", P),
    Spec("queue_messages", G, "syncbucket_queue_messages", "RabbitMQ queue depth.", ("queue",)),
    Spec("runs_active", G, "syncbucket_runs_active", "Runs pending or running."),
    Spec("runs_max_seconds_since_progress", G, "syncbucket_runs_max_seconds_since_progress",
         "Longest time any active run has gone without an item finishing."),
    Spec("reaper_actions", C, "syncbucket_reaper_actions_total",
         "Items released, timed out or cancelled by the reaper.", ("action",)),
    Spec("requests_rejected", C, "syncbucket_requests_rejected_total",
         "Upstream sync requests dead-lettered.", ("reason",)),
    Spec("requests_accepted", C, "syncbucket_requests_accepted_total",
         "Upstream sync requests answered accepted.", ("result",)),
    Spec("leader", G, "syncbucket_coordinator_leader",
         "1 while this coordinator holds the leader lease (dispatcher, reaper, scheduler).",
         mode="max"),
    Spec("leader_changes", C, "syncbucket_coordinator_leader_changes_total",
         "Leader lease acquired or lost by this process.", ("change",)),
    Spec("schedule_fires", C, "syncbucket_schedule_fires_total",
         "Schedule fires by what they did.", ("outcome",)),
    # aggregator
    Spec("runs_completed", C, "syncbucket_runs_completed_total",
         "Runs that reached a final status.", ("status",)),
    Spec("run_duration", H, "syncbucket_run_duration_seconds",
         "Run duration, created to completed.", ("status",), RUN_BUCKETS),
    Spec("outcomes_applied", C, "syncbucket_outcomes_applied_total",
         "Outcomes applied or duplicate.", ("result",)),
    Spec("events_published", C, "syncbucket_events_published_total",
         "CloudEvents confirmed by RabbitMQ.", ("type",)),
    Spec("events_publish_failures", C, "syncbucket_events_publish_failures_total",
         "Event publish attempts that failed (retried).", ("type",)),
    Spec("outbox_pending", G, "syncbucket_outbox_pending_events",
         "Outbox rows not yet published."),
    Spec("outbox_oldest_age", G, "syncbucket_outbox_oldest_pending_age_seconds",
         "Age of the oldest unpublished outbox row (outbox lag)."),
)  # fmt: skip


def _build(spec: Spec, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
    if spec.kind == C:
        return Counter(spec.name, spec.doc, spec.labels, registry=registry)
    if spec.kind == H:
        return Histogram(spec.name, spec.doc, spec.labels, registry=registry, buckets=spec.buckets)
    mode: Any = spec.mode
    return Gauge(spec.name, spec.doc, spec.labels, registry=registry, multiprocess_mode=mode)


def build_metrics(registry: CollectorRegistry) -> SyncBucketMetrics:
    """Define the catalogue on ``registry`` (each registry at most once)."""
    built: dict[str, Any] = {spec.field: _build(spec, registry) for spec in SPECS}
    return SyncBucketMetrics(**built)
