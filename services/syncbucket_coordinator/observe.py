"""The coordinator's ``metrics`` loop: gauges of what the coordinator owns, every few seconds.

Each tick reads the dispatcher's backlog per portal (pending, in flight, window), the
active runs and the longest time any of them has gone without progress (database), then
the depth of every SyncBucket queue in RabbitMQ (passive declares). The counters
(items released, reaper actions) are counted by the dispatcher and reaper loops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from syncbucket.config import Settings
from syncbucket.db.session import SessionFactory
from syncbucket.dispatch.fairness import Release
from syncbucket.metrics import record
from syncbucket.metrics.probes import ProgressTracker, portal_backlog
from syncbucket.metrics.queues import QueueDepthProbe
from syncbucket.pipeline.dispatcher import windows_from_settings
from syncbucket.pipeline.reaper import ReapReport

logger = logging.getLogger(__name__)

#: How often the gauges are refreshed (Prometheus scrapes every 15 s by default).
METRICS_INTERVAL_SECONDS = 2.0


class CoordinatorObserver:
    """The ``metrics`` loop's tick; ``queues`` is None without RabbitMQ (stub broker)."""

    def __init__(
        self,
        settings: Settings,
        sessions: SessionFactory,
        clock: Callable[[], datetime],
        queues: QueueDepthProbe | None,
    ) -> None:
        self._windows = windows_from_settings(settings)
        self._sessions = sessions
        self._clock = clock
        self._queues = queues
        self._progress = ProgressTracker()

    def tick(self) -> None:
        now = self._clock()
        with self._sessions() as session:
            backlog = portal_backlog(session, self._windows)
            progress = self._progress.observe(session, now)
        record.dispatcher_tick(backlog)
        record.runs_progress(progress.active, progress.max_seconds_since_progress)
        if self._queues is not None:
            record.queue_depths(self._queues.depths())

    def close(self) -> None:
        if self._queues is not None:
            self._queues.close()


def observer(
    settings: Settings, sessions: SessionFactory, clock: Callable[[], datetime]
) -> CoordinatorObserver:
    probe = QueueDepthProbe(settings.broker_url) if settings.broker_url else None
    return CoordinatorObserver(settings, sessions, clock, probe)


def count_releases(releases: list[Release]) -> None:
    per_portal: dict[str, int] = {}
    for release in releases:
        per_portal[release.portal] = per_portal.get(release.portal, 0) + release.count
    for portal, count in per_portal.items():
        record.items_released(portal, count)


def count_reaped(report: ReapReport) -> None:
    record.reaper_action("released", report.released)
    record.reaper_action("timed_out", report.failed)
    record.reaper_action("cancelled", report.cancelled)
