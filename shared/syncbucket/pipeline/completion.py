"""Claim a run's completion exactly once and write its ``run.completed`` outbox row;
write ``run.started`` when the dispatcher first releases a run (same summary shape).

The claim is ONE conditional UPDATE (docs/architecture.md §1)::

    UPDATE runs SET completed_at = :now, status = <final>
     WHERE id = :id AND completed_at IS NULL
       AND items_succeeded + items_failed + items_skipped + items_cancelled = total_items

Why this is race-free under PostgreSQL READ COMMITTED: every caller has already bumped
the run's counters in the same transaction with ``SET x = x + 1``, which row-locks the
run. A second transaction racing on the last item waits on that lock and, once the
first commits, re-evaluates its UPDATE against the newest row version, so its counter
increment lands on top of the first's. Its claim UPDATE is a new statement, with a new
snapshot, so it sees both increments; the first transaction's claim saw only its own
and matched nothing. Exactly one transaction gets rowcount 1. ``completed_at IS NULL``
in the WHERE makes a late replay (e.g. a cancel after the end) match nothing as well.
SQLite serialises writers (``BEGIN IMMEDIATE``), which is stronger still.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.runs import Run
from syncbucket.domain.runs import RunStatus
from syncbucket.pipeline import events, outbox
from syncbucket.pipeline.queries import summarise

DONE = Run.items_succeeded + Run.items_failed + Run.items_skipped + Run.items_cancelled

FINAL_STATUS = sa.case(
    (Run.cancel_requested_at.is_not(None), RunStatus.CANCELLED.value),
    (Run.items_failed > 0, RunStatus.COMPLETED_WITH_ERRORS.value),
    else_=RunStatus.COMPLETED.value,
)


def claim_completion(session: Session, run_id: int, now: datetime) -> bool:
    """``True`` only in the one transaction that completed the run (and wrote its event)."""
    result = session.execute(
        sa.update(Run)
        .where(Run.id == run_id, Run.completed_at.is_(None), Run.total_items == DONE)
        .values(completed_at=now, status=FINAL_STATUS),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    _write_completed_event(session, run_id, now)
    return True


def _write_completed_event(session: Session, run_id: int, now: datetime) -> None:
    payload = _summary(session, run_id)
    kind = events.RUN_COMPLETED
    outbox.write_event(session, kind.type, kind.routing_key, payload, now)


def announce_started(session: Session, run_id: int, now: datetime) -> None:
    """``run.started`` with the run's summary; its id is stable per run (written once)."""
    kind = events.RUN_STARTED
    event_id = events.stable_event_id(f"{kind.type}:{run_id}")
    outbox.write_once(
        session, event_id, kind.type, kind.routing_key, _summary(session, run_id), now
    )


def _summary(session: Session, run_id: int) -> dict[str, Any]:
    run = session.scalars(
        sa.select(Run).where(Run.id == run_id).execution_options(populate_existing=True)
    ).one()
    return summarise(session, run).to_dict()
