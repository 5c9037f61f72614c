"""Background loops: call a tick every ``interval`` seconds on a thread until stopped.

A tick that raises is logged with its traceback and the loop carries on, waiting twice as
long after each consecutive failure (up to ``MAX_BACKOFF_SECONDS``, so a broker that is
down does not flood the log) and back to ``interval`` after a success; a loop never dies
silently (anything that escapes is logged as critical and
shows in ``/healthz``). ``stop()`` wakes the loop at once and joins it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.session import SessionFactory
from syncbucket.pipeline.dispatcher import WorkPublisher, dispatch_tick, windows_from_settings
from syncbucket.pipeline.reaper import reap
from syncbucket_coordinator.observe import (
    METRICS_INTERVAL_SECONDS,
    CoordinatorObserver,
    count_reaped,
    count_releases,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0

Tick = Callable[[], object]
Clock = Callable[[], datetime]


@dataclass
class LoopStats:
    ticks: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_tick_monotonic: float | None = None


class PeriodicLoop:
    """Run ``tick`` now and then every ``interval`` seconds on a daemon thread."""

    def __init__(self, name: str, interval: float, tick: Tick) -> None:
        if interval <= 0:
            raise ValueError(f"loop {name!r}: interval must be positive, got {interval}")
        self.name = name
        self.interval = interval
        self._tick = tick
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = LoopStats()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"loop:{self.name}", daemon=True)
        self._thread.start()
        logger.info("loop %s started (every %.3gs)", self.name, self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("loop %s did not stop within %.3gs", self.name, timeout)
        else:
            logger.info("loop %s stopped", self.name)

    def run_once(self) -> bool:
        """One tick, exceptions logged and counted; ``True`` if it succeeded."""
        try:
            self._tick()
        except Exception as exc:
            self.stats.failures += 1
            self.stats.consecutive_failures += 1
            self.stats.last_error = type(exc).__name__  # shown by /healthz: no SQL, no hosts
            logger.exception("loop %s: tick failed; next in %.3gs", self.name, self.next_wait())
            return False
        finally:
            self.stats.ticks += 1
            self.stats.last_tick_monotonic = time.monotonic()
        self.stats.consecutive_failures = 0
        return True

    def next_wait(self) -> float:
        """``interval``, doubled per consecutive failure up to ``MAX_BACKOFF_SECONDS``."""
        failures = min(self.stats.consecutive_failures, 16)
        return min(self.interval * 2.0**failures, max(self.interval, MAX_BACKOFF_SECONDS))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.run_once()
                self._stop.wait(self.next_wait())
        except BaseException:
            logger.critical("loop %s died", self.name, exc_info=True)
            raise


def dispatcher_loop(
    settings: Settings, sessions: SessionFactory, publisher: WorkPublisher, clock: Clock
) -> PeriodicLoop:
    """Release pending items to the portal queues, each portal within its window."""
    windows = windows_from_settings(settings)
    queued_timeout = timedelta(seconds=settings.item_queued_timeout_seconds)

    def tick() -> None:
        releases = dispatch_tick(
            sessions, publisher, windows, clock(), queued_timeout=queued_timeout
        )
        count_releases(releases)
        if releases:
            logger.debug(
                "dispatched %s",
                ", ".join(f"run {r.run_id} {r.portal} x{r.count}" for r in releases),
            )

    return PeriodicLoop("dispatcher", settings.dispatch_interval_seconds, tick)


def _log_timed_out(outcome: OutcomeMessage) -> None:
    logger.warning(
        "reaper: item %s of run %s failed as %s",
        outcome.item_id,
        outcome.run_id,
        outcome.error_code,
    )


def reaper_loop(settings: Settings, sessions: SessionFactory, clock: Clock) -> PeriodicLoop:
    """Re-release or fail items stuck queued/running past their deadline."""

    def tick() -> None:
        report = reap(sessions, _log_timed_out, clock(), settings)
        count_reaped(report)
        if report.released or report.failed or report.cancelled:
            logger.info(
                "reaper: %d released again, %d failed as timed out, %d cancelled",
                report.released,
                report.failed,
                report.cancelled,
            )

    return PeriodicLoop("reaper", settings.reaper_interval_seconds, tick)


def metrics_loop(observer: CoordinatorObserver) -> PeriodicLoop:
    """Refresh the coordinator's gauges: backlog, active runs, RabbitMQ queue depths."""
    return PeriodicLoop("metrics", METRICS_INTERVAL_SECONDS, observer.tick)
