"""The outbox relay: unsent outbox rows -> CloudEvents on ``syncbucket.events``
(docs/architecture.md §7).

Each pass claims a batch of pending rows in one short transaction (a lease on each row,
so another relay -- another coordinator -- never publishes the same rows meanwhile),
publishes them one by one with publisher confirms *outside* any transaction (no row or
SQLite write lock is held while waiting on RabbitMQ), then marks the confirmed ones sent
and hands the others back in a second transaction. A failed publish leaves rows unsent
for the next pass; a crash leaves them claimed until the lease expires. Either way they
go out again with the same CloudEvents ``id``: at-least-once, consumers dedupe on ``id``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from syncbucket.db.base import utcnow
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.messaging.publishers import EventPublisher
from syncbucket.metrics import record
from syncbucket.metrics.probes import outbox_backlog
from syncbucket.pipeline.events import RUN_COMPLETED_TYPE, cloud_event
from syncbucket.pipeline.outbox import mark_sent, note_attempt, pending_events, release_claims

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_SECONDS = 1.0
DEFAULT_BATCH = 100

Pending = tuple[int, str, dict[str, Any]]  # (outbox id, routing key, CloudEvent)


class OutboxRelay:
    def __init__(
        self,
        sessions: SessionFactory,
        publisher: EventPublisher,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        batch: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self._interval = interval_seconds
        self._batch = batch
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One batch: publish what is pending, mark what was confirmed; returns that count."""
        pending = self._read()
        sent: list[int] = []
        try:
            for row_id, routing_key, event in pending:
                try:
                    self._publisher.publish(routing_key, event)
                except Exception:
                    record.event_publish_failed(str(event["type"]))
                    raise
                sent.append(row_id)
                observe_published(event)
        finally:
            if pending:
                done = set(sent)
                unsent = [row_id for row_id, _, _ in pending if row_id not in done]
                with unit_of_work(self._sessions) as session:
                    mark_sent(session, sent, self._clock())
                    release_claims(session, unsent)
        if sent:
            log.info("relayed %d event(s) to the events exchange", len(sent))
        return len(sent)

    def drain(self) -> int:
        """Publish until nothing is pending (or a pass publishes less than a full batch)."""
        total = 0
        while True:
            count = self.run_once()
            total += count
            if count < self._batch:
                return total

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the outbox relay is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread; one still busy after ``timeout`` stays known, so ``start``
        refuses to run a second relay beside it."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            log.warning("the outbox relay did not stop within %.3g s", timeout)
            return
        self._thread = None

    def _read(self) -> list[Pending]:
        with unit_of_work(self._sessions) as session:
            rows = pending_events(session, self._batch, now=self._clock())
            note_attempt(session, [row.id for row in rows])
            return [(row.id, row.routing_key, cloud_event(row)) for row in rows]

    def observe_backlog(self) -> None:
        """Set the outbox gauges: rows not yet published, age of the oldest."""
        with self._sessions() as session:
            backlog = outbox_backlog(session, self._clock())
        record.outbox_state(backlog.pending, backlog.oldest_age_seconds)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
                self._publisher.keepalive()
            except Exception:
                log.exception("outbox relay pass failed; retrying in %.1f s", self._interval)
            try:
                self.observe_backlog()
            except Exception:
                log.exception("could not read the outbox backlog for the metrics")
            self._stop.wait(self._interval)


def observe_published(event: Mapping[str, Any]) -> None:
    """Count a confirmed event; a ``run.completed`` one also counts its run as finished.

    Runs are counted here, where every completion passes exactly once on the normal path
    (the aggregator, the reaper and cancel all complete runs through the outbox); a relay
    crash between publishing and marking the row sent counts that run twice.
    """
    event_type = str(event.get("type"))
    record.event_published(event_type)
    data = event.get("data")
    if event_type != RUN_COMPLETED_TYPE or not isinstance(data, Mapping):
        return
    try:
        created = datetime.fromisoformat(str(data["created_at"]))
        completed = datetime.fromisoformat(str(data["completed_at"]))
    except (KeyError, ValueError):
        log.warning("run.completed event %s without its times", event.get("id"))
        return
    record.run_completed(str(data.get("status")), (completed - created).total_seconds())
