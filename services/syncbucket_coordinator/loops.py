"""Background loops: call a tick every ``interval`` seconds on a thread until stopped.

A tick that raises is logged with its traceback and the loop carries on, waiting twice as
long after each consecutive failure (up to ``MAX_BACKOFF_SECONDS``, so a broker that is
down does not flood the log) and back to ``interval`` after a success; a loop never dies
silently (anything that escapes is logged as critical and
shows in ``/healthz``). ``stop()`` wakes the loop at once and joins it.

A loop may have a ``gate``: its thread runs a tick only while the gate says so. The
leader-only duties are gated on the leader lease (docs/architecture.md §18), so a
replica whose lease ran out stops working even if the lease loop itself is stuck.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.coordination.lease import LeaseLost
from syncbucket.db.session import SessionFactory
from syncbucket.pipeline.dispatcher import WorkPublisher, dispatch_tick, windows_from_settings
from syncbucket.pipeline.reaper import reap
from syncbucket.schedules.firing import fire_due_schedules
from syncbucket_coordinator.observe import (
    METRICS_INTERVAL_SECONDS,
    CoordinatorObserver,
    count_reaped,
    count_releases,
)

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0

Tick = Callable[[], object]
Gate = Callable[[], bool]
Clock = Callable[[], datetime]


@dataclass
class LoopStats:
    ticks: int = 0
    skipped: int = 0  # ticks the gate held back
    failures: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    last_tick_monotonic: float | None = None


class PeriodicLoop:
    """Run ``tick`` now and then every ``interval`` seconds on a daemon thread.

    ``backoff=False`` keeps the interval after failures (the lease loop: renewing late
    is losing). ``gate``, when set, is asked before each tick of the thread;
    :meth:`run_once` (a direct call) runs the tick regardless.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        tick: Tick,
        *,
        backoff: bool = True,
        gate: Gate | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"loop {name!r}: interval must be positive, got {interval}")
        self.name = name
        self.interval = interval
        self.backoff = backoff
        self.gate = gate
        self._tick = tick
        # One stop event per thread: a thread still finishing a long tick after stop()
        # timed out keeps its own (set) event and exits, whatever a restart does.
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = LoopStats()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, *, wait_first: bool = False) -> None:
        """Start the thread (a no-op while it runs); ``wait_first`` skips the first tick."""
        if self.running and not self._stop.is_set():
            return
        if self.running:
            logger.warning("loop %s restarted while its last tick is still running", self.name)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop, wait_first), name=f"loop:{self.name}", daemon=True
        )
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
        if not self.backoff:
            return self.interval
        failures = min(self.stats.consecutive_failures, 16)
        return min(self.interval * 2.0**failures, max(self.interval, MAX_BACKOFF_SECONDS))

    def _run(self, stop: threading.Event, wait_first: bool) -> None:
        try:
            if wait_first:
                stop.wait(self.next_wait())
            while not stop.is_set():
                if self.gate is None or self.gate():
                    self.run_once()
                else:
                    self.stats.skipped += 1
                stop.wait(self.next_wait())
        except BaseException:
            logger.critical("loop %s died", self.name, exc_info=True)
            raise


def dispatcher_loop(
    settings: Settings,
    sessions: SessionFactory,
    publisher: WorkPublisher,
    clock: Clock,
    *,
    guard: Callable[[Session], None] | None = None,
) -> PeriodicLoop:
    """Release pending items to the portal queues, each portal within its window.

    ``guard`` fences each release transaction (the leader lease's check); a tick it
    refuses is rolled back and logged as a warning, not a failure: the lease loop is
    about to stop this loop, and backing off would only delay it if leadership returns.
    """
    windows = windows_from_settings(settings)
    queued_timeout = timedelta(seconds=settings.item_queued_timeout_seconds)

    def tick() -> None:
        try:
            releases = dispatch_tick(
                sessions, publisher, windows, clock(), queued_timeout=queued_timeout, guard=guard
            )
        except LeaseLost as lost:
            logger.warning("dispatcher: %s; this tick's releases were rolled back", lost)
            return
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


def scheduler_loop(settings: Settings, sessions: SessionFactory, clock: Clock) -> PeriodicLoop:
    """Fire the firms' due schedules (docs/schedules.md). Exactly one run per fire holds
    without the lease's fence: the fire row's unique key and the run's idempotency key
    settle any overlap of two leaders (docs/architecture.md §19)."""
    grace = timedelta(seconds=settings.schedule_misfire_grace_seconds)

    def tick() -> None:
        fire_due_schedules(sessions, clock(), grace=grace)

    return PeriodicLoop("scheduler", settings.scheduler_interval_seconds, tick)


def metrics_loop(observer: CoordinatorObserver) -> PeriodicLoop:
    """Refresh the coordinator's gauges: backlog, active runs, RabbitMQ queue depths."""
    return PeriodicLoop("metrics", METRICS_INTERVAL_SECONDS, observer.tick)
