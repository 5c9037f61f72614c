"""Apply one item's final outcome: one transaction, idempotent, counters in SQL.

Steps, all in the caller's transaction:

1. lock the item row (``SELECT ... FOR UPDATE``): a duplicate outcome racing this one
   waits here and then sees the item terminal;
2. an item already terminal (done, cancelled, reaped) -> nothing changes, ``applied=False``;
3. insert into ``outcomes`` with ON CONFLICT (item_id) DO NOTHING: the unique item_id is
   the last word on duplicates -> conflict means ``applied=False``, nothing else written;
4. upsert the records (natural key, change detection) and note the counts;
5. update the item, bump the run's counters as ``x = x + n`` (never read-modify-write:
   that UPDATE also takes the run's row lock that makes :mod:`.completion` race-free);
6. note the attempt in the client master's read models (:mod:`syncbucket.clientmaster.sync_state`);
7. :func:`claim_completion`.

Lock order is item then run, as in ``cancel_pending`` and the reaper; the dispatcher
takes item locks only with SKIP LOCKED and no run lock in the same transaction, so no
cycle can form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.items import Item
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_repo import UpsertCounts, upsert_records
from syncbucket.db.runs import Run
from syncbucket.domain.records import Record
from syncbucket.domain.runs import TERMINAL_ITEM_STATUSES, ItemStatus
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.errors import RecordCodecError
from syncbucket.pipeline.record_codec import decode_all

log = logging.getLogger(__name__)

INVALID_RECORDS = "invalid_records"

_RUN_COUNTER = {
    ItemStatus.SUCCEEDED: "items_succeeded",
    ItemStatus.FAILED: "items_failed",
    ItemStatus.SKIPPED: "items_skipped",
}


@dataclass(frozen=True)
class ApplyResult:
    applied: bool  # False: duplicate, unknown item, or the item was already terminal
    completed: bool  # True only in the transaction that completed the run


NOT_APPLIED = ApplyResult(applied=False, completed=False)


@dataclass(frozen=True)
class _Target:
    item_id: int
    run_id: int
    firm_id: int
    client_id: int
    module: str
    portal: str


def apply_outcome(session: Session, outcome: OutcomeMessage, now: datetime) -> ApplyResult:
    target = _lock_open_item(session, outcome)
    if target is None:
        return NOT_APPLIED
    outcome, records = _decode(outcome)
    if not _insert_outcome(session, outcome, now):
        log.info("duplicate outcome for item %s ignored", outcome.item_id)
        return NOT_APPLIED
    counts = UpsertCounts()
    if records:
        counts = upsert_records(
            session, target.firm_id, target.client_id, target.run_id, records, now=now
        )
        _set_outcome_counts(session, outcome, counts)
    _finish_item(session, outcome, counts, now)
    _bump_run(session, outcome, counts)
    note_attempt(session, _attempted(target, outcome), now)
    completed = claim_completion(session, target.run_id, now)
    return ApplyResult(applied=True, completed=completed)


def _lock_open_item(session: Session, outcome: OutcomeMessage) -> _Target | None:
    row = session.execute(
        sa.select(
            Item.id,
            Item.run_id,
            Item.firm_id,
            Item.client_id,
            Item.module,
            Item.portal,
            Item.status,
        )
        .where(Item.id == outcome.item_id)
        .with_for_update()
    ).one_or_none()
    if row is None or row.run_id != outcome.run_id:
        # A deleted run, or a message that is not ours: retrying would never help.
        log.warning("outcome for unknown item %s (run %s) ignored", outcome.item_id, outcome.run_id)
        return None
    if row.status in TERMINAL_ITEM_STATUSES:
        log.info("outcome for item %s ignored: already %s", row.id, row.status)
        return None
    return _Target(row.id, row.run_id, row.firm_id, row.client_id, row.module, row.portal)


def _attempted(target: _Target, outcome: OutcomeMessage) -> Attempted:
    return Attempted(
        firm_id=target.firm_id,
        client_id=target.client_id,
        module=target.module,
        portal=target.portal,
        run_id=target.run_id,
        status=ItemStatus(outcome.status),
        error_code=outcome.error_code,
    )


def _decode(outcome: OutcomeMessage) -> tuple[OutcomeMessage, list[Record]]:
    """Rebuild the records; a batch that cannot be rebuilt fails the item, visibly.

    Raising instead would redeliver the same bad message forever.
    """
    try:
        return outcome, decode_all(outcome.records)
    except RecordCodecError as exc:
        failed = outcome.model_copy(
            update={
                "status": "failed",
                "error_code": INVALID_RECORDS,
                "error_message": f"the worker sent records that cannot be read: {exc}",
            }
        )
        return failed, []


def _insert_outcome(session: Session, outcome: OutcomeMessage, now: datetime) -> bool:
    values: dict[str, Any] = {
        "item_id": outcome.item_id,
        "run_id": outcome.run_id,
        "status": ItemStatus(outcome.status),
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
        "attempts": outcome.attempts,
        "records_fetched": len(outcome.records),
        "received_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Outcome)
        .values(values)
        .on_conflict_do_nothing(index_elements=["item_id"])
        .returning(Outcome.id)
    )
    # RETURNING, not rowcount: an INSERT's rowcount is -1 on psycopg unless preserved.
    return session.execute(statement).scalar_one_or_none() is not None


def _set_outcome_counts(session: Session, outcome: OutcomeMessage, counts: UpsertCounts) -> None:
    session.execute(
        sa.update(Outcome)
        .where(Outcome.item_id == outcome.item_id)
        .values(
            records_new=counts.new,
            records_changed=counts.changed,
            records_unchanged=counts.unchanged,
        ),
        execution_options={"synchronize_session": False},
    )


def _finish_item(
    session: Session, outcome: OutcomeMessage, counts: UpsertCounts, now: datetime
) -> None:
    session.execute(
        sa.update(Item)
        .where(Item.id == outcome.item_id)
        .values(
            status=ItemStatus(outcome.status),
            attempts=outcome.attempts,
            error_code=outcome.error_code,
            error_message=outcome.error_message,
            records_fetched=len(outcome.records),
            records_new=counts.new,
            records_changed=counts.changed,
            records_unchanged=counts.unchanged,
            finished_at=now,
            deadline_at=None,
        ),
        execution_options={"synchronize_session": False},
    )


def _bump_run(session: Session, outcome: OutcomeMessage, counts: UpsertCounts) -> None:
    counter = _RUN_COUNTER[ItemStatus(outcome.status)]
    column = getattr(Run, counter)
    session.execute(
        sa.update(Run)
        .where(Run.id == outcome.run_id)
        .values(
            {
                counter: column + 1,
                "records_new": Run.records_new + counts.new,
                "records_changed": Run.records_changed + counts.changed,
            }
        ),
        execution_options={"synchronize_session": False},
    )
