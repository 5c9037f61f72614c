"""``syncbucket.run.progress``: a run's progress, now and then -- never once per item.

The aggregator decides in the transaction that applies an outcome, from the run row its
counter update returned (that UPDATE holds the run's row lock, so two outcomes never
decide on the same numbers). A progress event goes out when

- the items done cross a quarter of the run (25 %, 50 %, 75 %), or
- ``SYNCBUCKET_PROGRESS_EVENT_SECONDS`` passed since the last one (the counter UPDATE
  moves ``runs.progress_event_at`` forward only when it is that old),

and never for the last item: ``run.completed`` says that. The event id is stable per
(run, items done), so the same step is never announced twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from syncbucket.pipeline import events, outbox


@dataclass(frozen=True)
class RunTally:
    """The run's counters right after an outcome was counted."""

    run_id: int
    firm_id: int
    total_items: int
    succeeded: int
    failed: int
    skipped: int
    cancelled: int
    records_new: int
    records_changed: int
    interval_due: bool  # this outcome moved progress_event_at forward

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped + self.cancelled


def quarter(done: int, total: int) -> int:
    return (4 * done) // total if total > 0 else 4


def trigger(tally: RunTally) -> str | None:
    """Why this outcome is announced (``quarter`` or ``interval``), or None."""
    if tally.total_items <= 0 or tally.done >= tally.total_items:
        return None
    if quarter(tally.done, tally.total_items) > quarter(tally.done - 1, tally.total_items):
        return "quarter"
    return "interval" if tally.interval_due else None


def payload(tally: RunTally, reason: str) -> dict[str, Any]:
    return {
        "run_id": tally.run_id,
        "firm_id": tally.firm_id,
        "total_items": tally.total_items,
        "items_done": tally.done,
        "percent_done": round(100.0 * tally.done / tally.total_items, 1),
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "skipped": tally.skipped,
        "cancelled": tally.cancelled,
        "records_new": tally.records_new,
        "records_changed": tally.records_changed,
        "trigger": reason,
    }


def announce(session: Session, tally: RunTally, now: datetime) -> bool:
    """Write the progress event if this outcome deserves one; ``True`` if written."""
    reason = trigger(tally)
    if reason is None:
        return False
    kind = events.RUN_PROGRESS
    return outbox.write_once(
        session,
        events.stable_event_id(f"{kind.type}:{tally.run_id}:{tally.done}"),
        kind.type,
        kind.routing_key,
        payload(tally, reason),
        now,
    )
