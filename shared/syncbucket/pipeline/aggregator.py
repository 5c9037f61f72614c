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
7. new or changed records -> a ``client.changed`` event (:mod:`.change_events`);
8. :func:`claim_completion`, or else perhaps a ``run.progress`` event (:mod:`.progress_events`).

Lock order is item then run, as in ``cancel_pending`` and the reaper; the dispatcher
takes item locks only with SKIP LOCKED and no run lock in the same transaction, so no
cycle can form.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncbucket.clientmaster.sync_state import Attempted, note_attempt
from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_repo import RecordChange, UpsertCounts, upsert_records
from syncbucket.db.runs import Run
from syncbucket.domain.records import Record
from syncbucket.domain.runs import TERMINAL_ITEM_STATUSES, ItemStatus
from syncbucket.pipeline import events, outbox, progress_events
from syncbucket.pipeline.change_events import client_changed_payload
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.errors import RecordCodecError
from syncbucket.pipeline.record_codec import decode_all

log = logging.getLogger(__name__)

INVALID_RECORDS = "invalid_records"
DEFAULT_PROGRESS_EVERY = timedelta(
    seconds=float(Settings.model_fields["progress_event_seconds"].default)
)

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


def apply_outcome(
    session: Session,
    outcome: OutcomeMessage,
    now: datetime,
    *,
    progress_every: timedelta = DEFAULT_PROGRESS_EVERY,
) -> ApplyResult:
    target = _lock_open_item(session, outcome)
    if target is None:
        return NOT_APPLIED
    outcome, records = _decode(outcome)
    if not _insert_outcome(session, outcome, now):
        log.info("duplicate outcome for item %s ignored", outcome.item_id)
        return NOT_APPLIED
    counts = UpsertCounts()
    changes: list[RecordChange] = []
    if records:
        counts = upsert_records(
            session,
            target.firm_id,
            target.client_id,
            target.run_id,
            records,
            now=now,
            changes=changes,
        )
        _set_outcome_counts(session, outcome, counts)
    _finish_item(session, outcome, counts, now)
    tally = _bump_run(session, target, outcome, counts, now, now - progress_every)
    note_attempt(session, _attempted(target, outcome), now)
    if changes:
        _announce_changes(session, target, changes, now)
    completed = claim_completion(session, target.run_id, now)
    if not completed:
        progress_events.announce(session, tally, now)
    return ApplyResult(applied=True, completed=completed)


def _announce_changes(
    session: Session, target: _Target, changes: list[RecordChange], now: datetime
) -> None:
    tan = session.scalar(sa.select(Client.tan).where(Client.id == target.client_id))
    data = client_changed_payload(
        run_id=target.run_id,
        item_id=target.item_id,
        firm_id=target.firm_id,
        client_id=target.client_id,
        tan=tan or "",
        module=target.module,
        portal=target.portal,
        changes=changes,
    )
    kind = events.CLIENT_CHANGED
    event_id = events.stable_event_id(f"{kind.type}:{target.item_id}")
    outbox.write_once(session, event_id, kind.type, kind.routing_key, data, now)


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


def _bump_run(
    session: Session,
    target: _Target,
    outcome: OutcomeMessage,
    counts: UpsertCounts,
    now: datetime,
    progress_cutoff: datetime,
) -> progress_events.RunTally:
    """Count the outcome on the run; the row it returns decides a progress event.

    ``progress_event_at`` moves to ``now`` only when it is older than the cutoff, in the
    same statement, so of the outcomes of one interval exactly one sees it move.
    """
    counter = _RUN_COUNTER[ItemStatus(outcome.status)]
    column = getattr(Run, counter)
    # The first interval counts from the start (runs started before migration 0006 have
    # no progress_event_at: their start, or creation, stands in).
    last = sa.func.coalesce(Run.progress_event_at, Run.started_at, Run.created_at)
    interval_due = last <= progress_cutoff
    row = session.execute(
        sa.update(Run)
        .where(Run.id == outcome.run_id)
        .values(
            {
                counter: column + 1,
                "records_new": Run.records_new + counts.new,
                "records_changed": Run.records_changed + counts.changed,
                "progress_event_at": sa.case((interval_due, now), else_=Run.progress_event_at),
            }
        )
        .returning(
            Run.total_items,
            Run.items_succeeded,
            Run.items_failed,
            Run.items_skipped,
            Run.items_cancelled,
            Run.records_new,
            Run.records_changed,
            Run.progress_event_at,
        ),
        execution_options={"synchronize_session": False},
    ).one()
    return progress_events.RunTally(
        run_id=target.run_id,
        firm_id=target.firm_id,
        total_items=row.total_items,
        succeeded=row.items_succeeded,
        failed=row.items_failed,
        skipped=row.items_skipped,
        cancelled=row.items_cancelled,
        records_new=row.records_new,
        records_changed=row.records_changed,
        interval_due=row.progress_event_at == now,
    )
