"""What the coordinator and the aggregator read from the database for their gauges.

All reads are aggregates over indexed columns, cheap enough for every few seconds:

- :func:`portal_backlog`: items pending / queued+running per portal (the dispatcher's
  backlog and in-flight count), on the ``items(portal, status, run_id)`` index;
- :class:`ProgressTracker`: active runs and how long since each last had an item finish,
  from the runs' own counters (no scan of their items) plus what this process saw before;
- :func:`outbox_backlog`: unpublished outbox rows and the age of the oldest.

No prometheus_client here: callers hand the results to :mod:`syncbucket.metrics.record`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.items import Item
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.runs import Run
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.metrics.record import PortalBacklog

ACTIVE_RUNS = (RunStatus.PENDING, RunStatus.RUNNING)
IN_FLIGHT = (ItemStatus.QUEUED, ItemStatus.RUNNING)
DONE = Run.items_succeeded + Run.items_failed + Run.items_skipped + Run.items_cancelled


def portal_backlog(session: Session, windows: Mapping[str, int]) -> list[PortalBacklog]:
    """Pending and in-flight items of every portal in ``windows`` (absent = 0)."""
    counts: dict[tuple[str, str], int] = {}
    rows = session.execute(
        sa.select(Item.portal, Item.status, sa.func.count())
        .where(Item.portal.in_(list(windows)), Item.status.in_([ItemStatus.PENDING, *IN_FLIGHT]))
        .group_by(Item.portal, Item.status)
    )
    for portal, status, count in rows:
        counts[(portal, str(status))] = int(count)
    return [
        PortalBacklog(
            portal=portal,
            pending=counts.get((portal, ItemStatus.PENDING.value), 0),
            inflight=sum(counts.get((portal, s.value), 0) for s in IN_FLIGHT),
            window=window,
        )
        for portal, window in windows.items()
    ]


@dataclass(frozen=True)
class _Seen:
    done: int
    progressed_at: datetime


@dataclass(frozen=True)
class RunsProgress:
    active: int
    max_seconds_since_progress: float


class ProgressTracker:
    """Remembers, per active run, when its count of finished items last changed.

    A run seen for the first time counts from its last finished item (one indexed
    look-up), else from its start (or creation, if not started yet). Not thread-safe:
    one tracker per observing loop.
    """

    def __init__(self) -> None:
        self._seen: dict[int, _Seen] = {}

    def observe(self, session: Session, now: datetime) -> RunsProgress:
        rows = session.execute(
            sa.select(Run.id, DONE, Run.started_at, Run.created_at).where(
                Run.status.in_(ACTIVE_RUNS)
            )
        ).all()
        seen: dict[int, _Seen] = {}
        for run_id, done, started_at, created_at in rows:
            before = self._seen.get(run_id)
            if before is None:
                since = _last_finished(session, run_id) if done else None
                seen[run_id] = _Seen(done, since or started_at or created_at)
            elif before.done != done:
                seen[run_id] = _Seen(done, now)
            else:
                seen[run_id] = before
        self._seen = seen
        ages = [(now - s.progressed_at).total_seconds() for s in seen.values()]
        return RunsProgress(len(seen), max([0.0, *ages]))


def _last_finished(session: Session, run_id: int) -> datetime | None:
    last: datetime | None = session.scalar(
        sa.select(sa.func.max(Item.finished_at)).where(Item.run_id == run_id)
    )
    return last


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_age_seconds: float


def outbox_backlog(session: Session, now: datetime) -> OutboxBacklog:
    count, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(OutboxEvent.created_at)).where(
            OutboxEvent.sent_at.is_(None)
        )
    ).one()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxBacklog(int(count), age)
