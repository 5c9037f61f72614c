"""Unstick items: queued or running past their deadline (docs/architecture.md §2, "every run ends").

A lost message, a killed worker host or a crashed pool leaves an item ``queued`` or
``running`` with nobody working on it. Past its ``deadline_at`` the reaper:

- sends it back to ``pending`` (the dispatcher releases it again), while the item has
  been released fewer than ``max_item_releases`` times (``items.releases``);
- then fails it with ``timed_out`` through :func:`apply_outcome`, in this process and
  its own transaction, so counters, completion and the event follow the one code path;
- for a run being cancelled, cancels it instead (pending items of such a run would
  never be released again, and the run would never end); each pass also sweeps such
  runs for pending items left behind.

Lock order is item then run, as in the aggregator: releases (items only) come before
cancels (items, then their run), and the sweep runs in a transaction of its own.

Every change re-checks ``deadline_at < now`` under the row lock: a worker that picked the
item up a moment ago (and set a fresh deadline) keeps it. A worker that reports after
its item was re-released or failed is harmless: the outcome is unique per item and a
terminal item ignores later outcomes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import Portal
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.runs import cancel_pending

BATCH = 500
IN_FLIGHT = (ItemStatus.QUEUED, ItemStatus.RUNNING)
TIMED_OUT = "timed_out"
PORTAL_NAMES = {Portal.TRACES.value: "TRACES", Portal.ITPORTAL.value: "the IT portal"}

OutcomeSink = Callable[[OutcomeMessage], None]


@dataclass(frozen=True)
class ReapReport:
    released: int = 0  # sent back to pending
    failed: int = 0  # failed as timed_out
    cancelled: int = 0  # stuck items of runs being cancelled


@dataclass(frozen=True)
class _Stuck:
    id: int
    run_id: int
    portal: str
    attempts: int
    releases: int
    cancelling: bool


def reap(
    session_factory: SessionFactory,
    outcome_sink: OutcomeSink | None,
    now: datetime,
    settings: Settings,
) -> ReapReport:
    """One pass over at most ``BATCH`` overdue items.

    ``outcome_sink`` (optional) is told, after each commit, of every ``timed_out``
    outcome the reaper applied itself (for logs and metrics); it does not apply them.
    """
    limit = settings.max_item_releases
    with unit_of_work(session_factory) as session:
        stuck = _overdue(session, now)
        retry = [s for s in stuck if not s.cancelling and s.releases < limit]
        released = _release(session, retry, now)  # item locks before any run lock
        cancelled = _cancel(session, [s for s in stuck if s.cancelling], now)
    with unit_of_work(session_factory) as session:  # its own transaction: no lock held yet
        cancelled += _sweep_cancelling_runs(session, now)
    give_up = [s for s in stuck if not s.cancelling and s.releases >= limit]
    failed = _fail_all(session_factory, outcome_sink, give_up, now, settings)
    return ReapReport(released=released, failed=failed, cancelled=cancelled)


def _fail_all(
    session_factory: SessionFactory,
    outcome_sink: OutcomeSink | None,
    items: list[_Stuck],
    now: datetime,
    settings: Settings,
) -> int:
    failed = 0
    for item in items:  # one transaction each: one bad item never blocks the others
        outcome = timed_out_outcome(item, settings)
        if _fail(session_factory, outcome, now):
            failed += 1
            if outcome_sink is not None:
                outcome_sink(outcome)
    return failed


def _overdue(session: Session, now: datetime) -> list[_Stuck]:
    # portal IN (...) lets the (portal, status, run_id) index find in-flight rows only.
    rows = session.execute(
        sa.select(
            Item.id,
            Item.run_id,
            Item.portal,
            Item.attempts,
            Item.releases,
            Run.cancel_requested_at.is_not(None),
        )
        .join(Run, Run.id == Item.run_id)
        .where(
            Item.portal.in_([portal.value for portal in Portal]),
            Item.status.in_(IN_FLIGHT),
            Item.deadline_at < now,
        )
        .order_by(Item.id)
        .limit(BATCH)
    )
    return [_Stuck(*row) for row in rows]


def _still_overdue(ids: list[int], now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(Item.id.in_(ids), Item.status.in_(IN_FLIGHT), Item.deadline_at < now)


def _release(session: Session, items: list[_Stuck], now: datetime) -> int:
    if not items:
        return 0
    result = session.execute(
        sa.update(Item)
        .where(_still_overdue([item.id for item in items], now))
        .values(
            status=ItemStatus.PENDING,
            queued_at=None,
            started_at=None,
            deadline_at=None,
            releases=Item.releases + 1,
        ),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _cancel(session: Session, items: list[_Stuck], now: datetime) -> int:
    total = 0
    for run_id in sorted({item.run_id for item in items}):
        ids = [item.id for item in items if item.run_id == run_id]
        count = session.execute(
            sa.update(Item)
            .where(_still_overdue(ids, now))
            .values(status=ItemStatus.CANCELLED, finished_at=now, deadline_at=None),
            execution_options={"synchronize_session": False},
        ).rowcount  # type: ignore[attr-defined]
        session.execute(
            sa.update(Run)
            .where(Run.id == run_id)
            .values(items_cancelled=Run.items_cancelled + count),
            execution_options={"synchronize_session": False},
        )
        claim_completion(session, run_id, now)
        total += count
    return total


def _sweep_cancelling_runs(session: Session, now: datetime) -> int:
    """Cancel pending items left in runs being cancelled, so those runs still end.

    One can appear when this reaper re-released an overdue item while a cancel was
    committing (the two touch different rows, so neither waits for the other).
    """
    run_ids = session.scalars(
        sa.select(Run.id).where(
            Run.status.in_([RunStatus.PENDING, RunStatus.RUNNING]),
            Run.cancel_requested_at.is_not(None),
            Run.completed_at.is_(None),
        )
    ).all()
    return sum(cancel_pending(session, run_id, now) for run_id in run_ids)


def timed_out_outcome(item: _Stuck, settings: Settings) -> OutcomeMessage:
    portal = PORTAL_NAMES.get(item.portal, item.portal)
    minutes = round(
        max(settings.item_queued_timeout_seconds, settings.item_running_timeout_seconds) / 60
    )
    message = (
        f"No result came back from the {portal} worker within about {minutes} minutes, "
        f"{item.releases + 1} time(s) in a row: the work was lost or the worker stopped. "
        "Nothing was saved for this item; use 're-sync failed' to try it again."
    )
    return OutcomeMessage(
        item_id=item.id,
        run_id=item.run_id,
        status="failed",
        attempts=item.attempts,
        error_code=TIMED_OUT,
        error_message=message,
    )


def _fail(session_factory: SessionFactory, outcome: OutcomeMessage, now: datetime) -> bool:
    with unit_of_work(session_factory) as session:
        locked = session.scalar(
            sa.select(Item.id).where(_still_overdue([outcome.item_id], now)).with_for_update()
        )
        if locked is None:  # picked up (fresh deadline) or finished meanwhile
            return False
        return apply_outcome(session, outcome, now).applied
