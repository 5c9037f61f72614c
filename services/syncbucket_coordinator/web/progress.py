"""Live progress: each watched run is computed once per tick and fanned out to everyone.

Fifty people watching one run cost what one costs: a single pump task (in the server's
event loop) asks, once per ``tick`` seconds, for the progress of every run that has at
least one watcher; :meth:`ProgressHub.current` computes it (one transaction: the run row
and one GROUP BY over its items) and renders the HTML fragment once, then the pump hands
the same fragment to every watcher's queue. The polling fallback and the first frame of
a new watcher go through :meth:`current` too, which serves the cached result while it is
younger than a tick -- so pollers do not multiply queries either.

Items per second is measured over the last ``RATE_WINDOW_SECONDS`` of the hub's own
samples (so a run that stalls shows it quickly), falling back to the run's average
since it started; the ETA is what remains at that rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.runs import TERMINAL_RUN_STATUSES, RunStatus
from syncbucket.pipeline.errors import RunNotFound
from syncbucket.pipeline.queries import run_summary
from syncbucket.pipeline.views import RunSummary

log = logging.getLogger(__name__)
RATE_WINDOW_SECONDS = 30.0
MIN_WINDOW_SECONDS = 3.0
MAX_CACHED = 1000


@dataclass(frozen=True)
class Progress:
    summary: RunSummary
    items_per_second: float | None
    eta_seconds: float | None

    @property
    def finished(self) -> bool:
        return RunStatus(self.summary.status) in TERMINAL_RUN_STATUSES


@dataclass(frozen=True)
class Frame:
    """What watchers receive: the progress and its fragment, rendered once."""

    progress: Progress
    html: str
    version: int


Render = Callable[[Progress], str]
Clock = Callable[[], datetime]


class ProgressHub:
    def __init__(
        self,
        sessions: SessionFactory,
        render: Render,
        clock: Clock,
        tick_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._render = render
        self._clock = clock
        self.tick_seconds = tick_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[tuple[int, int], tuple[float, Frame]] = {}
        self._computing: dict[tuple[int, int], threading.Lock] = {}
        self._versions = 0
        self._samples: dict[tuple[int, int], deque[tuple[float, int]]] = {}
        # A watcher's queue holds the latest frame; None ends its stream (the run is gone).
        self._watchers: dict[tuple[int, int], set[asyncio.Queue[Frame | None]]] = {}
        self._pump: asyncio.Task[None] | None = None
        self._closed = asyncio.Event()
        self.computations = 0  # for tests and the benchmark: queries follow this

    # -- computing (any thread) -----------------------------------------------------

    def current(self, firm_id: int, run_id: int, *, max_age: float | None = None) -> Frame:
        """The run's frame: cached while younger than ``max_age`` (default: a tick), else
        computed now. A page load passes 0: the person just cancelled, say, and must see it.

        Raises :class:`RunNotFound` for a run that is not the firm's.
        """
        key = (firm_id, run_id)
        age = self.tick_seconds if max_age is None else max_age
        fresh = self._fresh(key, age)
        if fresh is not None:
            return fresh
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # a second caller waits for the first one's result
            fresh = self._fresh(key, age)
            if fresh is not None:
                return fresh
            now = self._monotonic()
            try:
                with unit_of_work(self._sessions) as session:
                    summary = run_summary(session, firm_id, run_id)
            except RunNotFound:
                with self._lock:  # nothing to keep for an id that names no run of the firm
                    if key not in self._cache:
                        self._computing.pop(key, None)
                raise
            progress = self._measure(key, summary, now)
            with self._lock:
                self._versions += 1  # one counter for all: a forgotten run restarts higher
                version = self._versions
            frame = Frame(progress, self._render(progress), version)
            with self._lock:
                self.computations += 1
                self._cache[key] = (now, frame)
                self._forget_idle(key)
            return frame

    def _fresh(self, key: tuple[int, int], max_age: float) -> Frame | None:
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and self._monotonic() - cached[0] < max_age:
            return cached[1]
        return None

    def _measure(self, key: tuple[int, int], summary: RunSummary, now: float) -> Progress:
        with self._lock:
            samples = self._samples.setdefault(key, deque())
            samples.append((now, summary.items_done))
            while samples and now - samples[0][0] > RATE_WINDOW_SECONDS:
                samples.popleft()
            oldest = samples[0]
        rate: float | None = None
        if now - oldest[0] >= MIN_WINDOW_SECONDS:
            rate = (summary.items_done - oldest[1]) / (now - oldest[0])
        elif summary.started_at is not None:
            elapsed = (self._clock() - summary.started_at).total_seconds()
            rate = summary.items_done / elapsed if elapsed >= MIN_WINDOW_SECONDS else None
        remaining = summary.total_items - summary.items_done
        eta = remaining / rate if rate and remaining and summary.completed_at is None else None
        return Progress(summary, rate, eta)

    def _forget_idle(self, key: tuple[int, int]) -> None:
        """Keep the cache of runs nobody watches any more from growing (lock held)."""
        if len(self._cache) > MAX_CACHED:
            for stale in [k for k in self._cache if not self._watchers.get(k) and k != key]:
                self._cache.pop(stale, None)
                self._samples.pop(stale, None)
                self._computing.pop(stale, None)

    # -- fan-out (the event loop) -----------------------------------------------------

    async def frames(self, firm_id: int, run_id: int) -> AsyncIterator[Frame]:
        """The run's frames from now on: the current one at once, then one per change,
        ending after the frame in which the run has finished (or when the hub closes)."""
        key = (firm_id, run_id)
        first = await asyncio.to_thread(self.current, firm_id, run_id)
        yield first
        if first.progress.finished:
            return
        queue: asyncio.Queue[Frame | None] = asyncio.Queue(maxsize=1)
        self._watchers.setdefault(key, set()).add(queue)
        self._ensure_pump()
        last = first.version
        try:
            while not self._closed.is_set():
                frame = await self._next(queue)
                if frame is None:
                    return
                if frame.version == last:
                    continue
                last = frame.version
                yield frame
                if frame.progress.finished:
                    return
        finally:
            watchers = self._watchers.get(key)
            if watchers is not None:
                watchers.discard(queue)
                if not watchers:
                    del self._watchers[key]

    async def _next(self, queue: asyncio.Queue[Frame | None]) -> Frame | None:
        getter = asyncio.ensure_future(queue.get())
        closing = asyncio.ensure_future(self._closed.wait())
        try:
            await asyncio.wait({getter, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when the watcher went away (the stream was cancelled)
            for task in (getter, closing):
                if not task.done():
                    task.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else None

    def watchers(self) -> int:
        return sum(len(queues) for queues in self._watchers.values())

    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump(), name="progress")

    async def _run_pump(self) -> None:
        while self._watchers and not self._closed.is_set():
            await asyncio.sleep(self.tick_seconds)
            for key in list(self._watchers):
                frame: Frame | None
                try:
                    frame = await asyncio.to_thread(self.current, *key)
                except RunNotFound:  # deleted meanwhile: its watchers' streams end
                    frame = None
                except Exception:  # a database blip: try again next tick
                    log.warning("progress of run %s not computed", key[1], exc_info=True)
                    continue
                for queue in list(self._watchers.get(key, ())):
                    if queue.full():
                        with contextlib.suppress(asyncio.QueueEmpty):
                            queue.get_nowait()
                    queue.put_nowait(frame)

    async def close(self) -> None:
        """End every stream (server shutdown) and stop the pump."""
        self._closed.set()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
