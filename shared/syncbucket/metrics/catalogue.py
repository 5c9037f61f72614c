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
    # aggregator
    runs_completed: Counter
    run_duration: Histogram
    outcomes_applied: Counter
    events_published: Counter
    events_publish_failures: Counter
    outbox_pending: Gauge
    outbox_oldest_age: Gauge


def build_metrics(registry: CollectorRegistry) -> SyncBucketMetrics:
    """Define the catalogue on ``registry`` (each registry at most once)."""

    def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
        return Counter(name, doc, labels, registry=registry)

    def histogram(
        name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]
    ) -> Histogram:
        return Histogram(name, doc, labels, registry=registry, buckets=buckets)

    def gauge(name: str, doc: str, labels: tuple[str, ...], *, mode: str = "mostrecent") -> Gauge:
        return Gauge(name, doc, labels, registry=registry, multiprocess_mode=mode)  # type: ignore[arg-type]

    p = ("portal",)
    return SyncBucketMetrics(
        items_processed=counter(
            "syncbucket_items_processed_total",
            "Items finished by a worker.",
            ("portal", "module", "outcome"),
        ),
        item_duration=histogram(
            "syncbucket_item_duration_seconds",
            "Wall time of one attempt of one item.",
            ("portal", "module"),
            ITEM_BUCKETS,
        ),
        portal_requests=counter(
            "syncbucket_portal_requests_total",
            "HTTP requests to a portal by status class.",
            ("portal", "status_class"),
        ),
        portal_request_duration=histogram(
            "syncbucket_portal_request_duration_seconds",
            "Portal response time.",
            p,
            REQUEST_BUCKETS,
        ),
        ratelimit_wait=histogram(
            "syncbucket_ratelimit_wait_seconds",
            "Time a request waited for a rate-limit token.",
            p,
            WAIT_BUCKETS,
        ),
        ratelimit_limit=gauge(
            "syncbucket_ratelimit_limit_per_second", "Configured request rate.", p, mode="max"
        ),
        ratelimit_effective=gauge(
            "syncbucket_ratelimit_effective_per_second",
            "Request rate in force after adaptive slow-down.",
            p,
        ),
        ratelimit_slowdowns=counter(
            "syncbucket_ratelimit_slowdowns_total", "Adaptive slow-downs.", ("portal", "reason")
        ),
        retries=counter(
            "syncbucket_retries_total", "Retries scheduled, by error code.", ("portal", "reason")
        ),
        logins=counter("syncbucket_logins_total", "Portal logins.", ("portal", "result")),
        dispatcher_pending=gauge(
            "syncbucket_dispatcher_pending_items", "Items waiting to be released (backlog).", p
        ),
        dispatcher_inflight=gauge(
            "syncbucket_dispatcher_inflight_items", "Items queued or running.", p
        ),
        dispatcher_window=gauge(
            "syncbucket_dispatcher_window_items", "The in-flight cap per portal.", p
        ),
        items_released=counter(
            "syncbucket_items_released_total", "Items released to the portal queues.", p
        ),
        queue_messages=gauge("syncbucket_queue_messages", "RabbitMQ queue depth.", ("queue",)),
        runs_active=gauge("syncbucket_runs_active", "Runs pending or running.", ()),
        runs_max_seconds_since_progress=gauge(
            "syncbucket_runs_max_seconds_since_progress",
            "Longest time any active run has gone without an item finishing.",
            (),
        ),
        reaper_actions=counter(
            "syncbucket_reaper_actions_total",
            "Items released or timed out by the reaper.",
            ("action",),
        ),
        requests_rejected=counter(
            "syncbucket_requests_rejected_total",
            "Upstream sync requests dead-lettered.",
            ("reason",),
        ),
        runs_completed=counter(
            "syncbucket_runs_completed_total", "Runs that reached a final status.", ("status",)
        ),
        run_duration=histogram(
            "syncbucket_run_duration_seconds",
            "Run duration, created to completed.",
            ("status",),
            RUN_BUCKETS,
        ),
        outcomes_applied=counter(
            "syncbucket_outcomes_applied_total", "Outcomes applied or duplicate.", ("result",)
        ),
        events_published=counter(
            "syncbucket_events_published_total", "CloudEvents confirmed by RabbitMQ.", ("type",)
        ),
        events_publish_failures=counter(
            "syncbucket_events_publish_failures_total",
            "Event publish attempts that failed (retried).",
            ("type",),
        ),
        outbox_pending=gauge(
            "syncbucket_outbox_pending_events", "Outbox rows not yet published.", ()
        ),
        outbox_oldest_age=gauge(
            "syncbucket_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished outbox row (outbox lag).",
            (),
        ),
    )
