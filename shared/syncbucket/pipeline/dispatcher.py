"""The fair dispatcher's tick: read the backlog, plan, mark queued, publish, commit.

Reads are aggregates on ``items(portal, status, run_id)``: in-flight per portal (a few
dozen rows) and pending per (portal, run) -- never the items themselves, so a 70,000-item
backlog costs one index scan. :func:`syncbucket.dispatch.fairness.plan_releases` decides
how many of which run; then, per run, the run row is locked and ``cancel_requested_at``
re-read (a run cancelled meanwhile is skipped), the oldest pending ids are picked with
SKIP LOCKED (the tick never waits on an item lock, so it cannot close a deadlock cycle
with the aggregator or cancel, which lock items before the run), marked ``queued``, and
everything is published before the commit: a publish that raises rolls the tick back
and the items stay ``pending``. A publish that succeeded but whose commit failed leaves messages for
items still ``pending``; the worker's ``queued|running`` guard drops them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Locked:
    firm_id: int


def dispatch_tick(
    session_factory: SessionFactory,
    publisher: WorkPublisher,
    windows: Mapping[str, int],
    now: datetime,
    *,
    queued_timeout: timedelta = DEFAULT_QUEUED_TIMEOUT,
) -> list[Release]:
    """Release what the windows allow; returns what was released (and published)."""
    with unit_of_work(session_factory) as session:
        planned = _plan(session, windows)
        released: list[Release] = []
        messages: list[WorkMessage] = []
        for run_id in sorted({release.run_id for release in planned}):
            run = _lock_run(session, run_id, now)
            if run is None:
                continue
            for release in (r for r in planned if r.run_id == run_id):
                batch = _mark_queued(session, release, run, now, now + queued_timeout)
                if batch:
                    released.append(Release(run_id, release.portal, len(batch)))
                    messages.extend(batch)
        if messages:
            publisher.publish(messages)  # raises -> the with block rolls everything back
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
            priority, created_at, remaining = runs[run_id]
            entry = RunBacklog(run_id, priority, created_at, count, remaining)
            backlog.setdefault(portal, []).append(entry)
    return plan_releases(windows, in_flight, backlog)


def _open_runs(session: Session, run_ids: set[int]) -> dict[int, tuple[int, datetime, int]]:
    """priority, created_at, items not yet done -- of runs neither cancelled nor complete."""
    if not run_ids:
        return {}
    done = Run.items_succeeded + Run.items_failed + Run.items_skipped + Run.items_cancelled
    rows = session.execute(
        sa.select(Run.id, Run.priority, Run.created_at, Run.total_items - done).where(
            Run.id.in_(sorted(run_ids)),
            Run.cancel_requested_at.is_(None),
            Run.completed_at.is_(None),
        )
    )
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def _lock_run(session: Session, run_id: int, now: datetime) -> _Locked | None:
    row = session.execute(
        sa.select(Run.firm_id, Run.status)
        .where(Run.id == run_id, Run.cancel_requested_at.is_(None), Run.completed_at.is_(None))
        .with_for_update()
    ).one_or_none()
    if row is None:  # cancelled (or finished) since the plan was read
        return None
    if row.status == RunStatus.PENDING:
        session.execute(
            sa.update(Run)
            .where(Run.id == run_id)
            .values(status=RunStatus.RUNNING, started_at=sa.func.coalesce(Run.started_at, now)),
            execution_options={"synchronize_session": False},
        )
    return _Locked(firm_id=row.firm_id)


def _mark_queued(
    session: Session, release: Release, run: _Locked, now: datetime, deadline: datetime
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
            firm_id=run.firm_id,
            client_id=row.client_id,
            module=row.module,
            portal=release.portal,
        )
        for row in rows
    ]
