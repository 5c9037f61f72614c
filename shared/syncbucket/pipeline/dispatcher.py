"""The fair dispatcher's tick: read the backlog, plan, mark queued, publish, commit.

Reads are aggregates on ``items(portal, status, run_id)``: in-flight per portal (a few
dozen rows) and pending per (portal, run) -- never the items themselves, so a 70,000-item
backlog costs one index scan. :func:`syncbucket.dispatch.fairness.plan_releases` decides
how many of which run; then, per run, ``cancel_requested_at`` is re-read WITHOUT a run
row lock (a run cancelled meanwhile is skipped), the oldest pending ids are picked with
SKIP LOCKED (the tick never waits on an item lock, so it cannot close a deadlock cycle
with the aggregator or cancel, which lock items before the run), marked ``queued``, and
everything is published before the commit: a publish that raises rolls the tick back
and the items stay ``pending``. The publish-and-commit transaction locks items only, so
the aggregator's run counter updates never wait behind a slow broker. Afterwards a
second short transaction sets the released runs ``running``
(``UPDATE ... WHERE status = 'pending'``).

A cancel that commits between the re-read and the item locks cannot cancel items this
tick has locked; they are released and finish like any in-flight item (the run still
ends). A publish that succeeded but whose commit failed leaves messages for items still
``pending``; workers accept ``pending|queued|running`` items, so such a message is simply
worked (the aggregator's outcome is idempotent) and the item's later release is a
duplicate that costs one portal call, never a wrong number.

``guard`` (optional) runs in the release transaction after the publish, just before the
commit; if it raises, the tick rolls back like a failed publish. The coordinator passes
its leader lease's check (docs/architecture.md §18), so a leader paused past its lease
and resumed cannot commit releases the next leader is making too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.config import Settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.dispatch.fairness import Release, RunBacklog, plan_releases
from syncbucket.domain.portals import Portal
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.pipeline.completion import announce_started

IN_FLIGHT = (ItemStatus.QUEUED, ItemStatus.RUNNING)
DEFAULT_QUEUED_TIMEOUT = timedelta(
    seconds=float(Settings.model_fields["item_queued_timeout_seconds"].default)
)

__all__ = ["Release", "WorkPublisher", "dispatch_tick", "windows_from_settings"]


class WorkPublisher(Protocol):
    def publish(self, messages: Sequence[WorkMessage]) -> None:
        """Publish with confirms; raise if any message was not confirmed."""


def windows_from_settings(settings: Settings) -> dict[str, int]:
    return {portal.value: settings.dispatch_window(portal.value) for portal in Portal}


def dispatch_tick(
    session_factory: SessionFactory,
    publisher: WorkPublisher,
    windows: Mapping[str, int],
    now: datetime,
    *,
    queued_timeout: timedelta = DEFAULT_QUEUED_TIMEOUT,
    guard: Callable[[Session], None] | None = None,
) -> list[Release]:
    """Release what the windows allow; returns what was released (and published)."""
    with unit_of_work(session_factory) as session:
        planned = _plan(session, windows)
        released: list[Release] = []
        messages: list[WorkMessage] = []
        for run_id in sorted({release.run_id for release in planned}):
            firm_id = _open_run_firm(session, run_id)
            if firm_id is None:
                continue
            for release in (r for r in planned if r.run_id == run_id):
                batch = _mark_queued(session, release, firm_id, now, now + queued_timeout)
                if batch:
                    released.append(Release(run_id, release.portal, len(batch)))
                    messages.extend(batch)
        if messages:
            publisher.publish(messages)  # raises -> the with block rolls everything back
            if guard is not None:
                guard(session)  # raises -> rolled back the same way
    if released:
        with unit_of_work(session_factory) as session:
            _start_runs(session, sorted({release.run_id for release in released}), now)
    return released


def _plan(session: Session, windows: Mapping[str, int]) -> list[Release]:
    portals = list(windows)
    in_flight: dict[str, int] = {
        portal: count
        for portal, count in session.execute(
            sa.select(Item.portal, sa.func.count())
            .where(Item.portal.in_(portals), Item.status.in_(IN_FLIGHT))
            .group_by(Item.portal)
        )
    }
    if all(in_flight.get(portal, 0) >= cap for portal, cap in windows.items()):
        return []  # every window full: skip the backlog scan entirely
    pending_rows = [
        (portal, run_id, count)
        for portal, run_id, count in session.execute(
            sa.select(Item.portal, Item.run_id, sa.func.count())
            .where(Item.portal.in_(portals), Item.status == ItemStatus.PENDING)
            .group_by(Item.portal, Item.run_id)
        )
    ]
    runs = _open_runs(session, {run_id for _, run_id, _ in pending_rows})
    backlog: dict[str, list[RunBacklog]] = {}
    for portal, run_id, count in pending_rows:
        if run_id in runs:
            firm_id, priority, created_at, remaining = runs[run_id]
            entry = RunBacklog(run_id, firm_id, priority, created_at, count, remaining)
            backlog.setdefault(portal, []).append(entry)
    return plan_releases(windows, in_flight, backlog)


def _open_runs(session: Session, run_ids: set[int]) -> dict[int, tuple[int, int, datetime, int]]:
    """firm, priority, created_at, items not yet done -- of runs neither cancelled nor done."""
    if not run_ids:
        return {}
    done = Run.items_succeeded + Run.items_failed + Run.items_skipped + Run.items_cancelled
    rows = session.execute(
        sa.select(Run.id, Run.firm_id, Run.priority, Run.created_at, Run.total_items - done).where(
            Run.id.in_(sorted(run_ids)),
            Run.cancel_requested_at.is_(None),
            Run.completed_at.is_(None),
        )
    )
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def _open_run_firm(session: Session, run_id: int) -> int | None:
    """The run's firm, or None if cancelled (or finished) since the plan was read.

    No row lock: holding one until the publish is confirmed would stall the aggregator.
    """
    return session.scalar(
        sa.select(Run.firm_id).where(
            Run.id == run_id, Run.cancel_requested_at.is_(None), Run.completed_at.is_(None)
        )
    )


def _start_runs(session: Session, run_ids: list[int], now: datetime) -> None:
    """``pending`` -> ``running`` for runs with a first release, each announced once with
    ``run.started`` (written in this transaction: the conditional UPDATE matches a run
    only once); a no-op for the others. The first ``run.progress`` comes one progress
    interval later."""
    started = session.scalars(
        sa.update(Run)
        .where(Run.id.in_(run_ids), Run.status == RunStatus.PENDING)
        .values(
            status=RunStatus.RUNNING,
            started_at=sa.func.coalesce(Run.started_at, now),
            progress_event_at=now,
        )
        .returning(Run.id),
        execution_options={"synchronize_session": False},
    ).all()
    for run_id in sorted(started):
        announce_started(session, run_id, now)


def _mark_queued(
    session: Session, release: Release, firm_id: int, now: datetime, deadline: datetime
) -> list[WorkMessage]:
    rows = session.execute(
        sa.select(Item.id, Item.client_id, Item.module)
        .where(
            Item.run_id == release.run_id,
            Item.portal == release.portal,
            Item.status == ItemStatus.PENDING,
        )
        .order_by(Item.id)
        .limit(release.count)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        sa.update(Item)
        .where(Item.id.in_([row.id for row in rows]))
        .values(status=ItemStatus.QUEUED, queued_at=now, deadline_at=deadline),
        execution_options={"synchronize_session": False},
    )
    return [
        WorkMessage(
            item_id=row.id,
            run_id=release.run_id,
            firm_id=firm_id,
            client_id=row.client_id,
            module=row.module,
            portal=release.portal,
        )
        for row in rows
    ]
