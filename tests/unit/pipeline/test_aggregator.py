"""apply_outcome: one transaction per outcome, idempotent, counters and records right."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_tables import PaidChallanRecord
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.runs import cancel_run
from tests.support.pipeline import (
    NOW,
    add_clients,
    add_firm,
    item,
    item_ids,
    outcome,
    run,
    start_run,
)
from tests.support.records import challan, changed

CHALLANS = [ModuleKey.FETCH_CHALLANS]


def _one_item_run(session: Session, firm_id: int) -> tuple[int, int]:
    created = start_run(session, firm_id, CHALLANS)
    return created.run_id, item_ids(session, created.run_id)[0]


def test_success_records_counts_and_completes(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id, item_id = _one_item_run(session, firm_id)
    records = [challan("00001"), challan("00002")]
    result = apply_outcome(session, outcome(item_id, run_id, records=records, attempts=2), NOW)
    assert result.applied and result.completed
    done = item(session, item_id)
    assert (done.status, done.attempts, done.finished_at) == (ItemStatus.SUCCEEDED, 2, NOW)
    assert (done.records_fetched, done.records_new, done.records_changed) == (2, 2, 0)
    finished = run(session, run_id)
    assert (finished.status, finished.items_succeeded, finished.records_new) == (
        RunStatus.COMPLETED,
        1,
        2,
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(PaidChallanRecord)) == 2


def test_second_run_tells_new_changed_unchanged(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    first_run, first_item = _one_item_run(session, firm_id)
    apply_outcome(
        session, outcome(first_item, first_run, records=[challan("00001"), challan("00002")]), NOW
    )
    second_run, second_item = _one_item_run(session, firm_id)
    again = [challan("00001"), changed(challan("00002")), challan("00003")]
    apply_outcome(session, outcome(second_item, second_run, records=again), NOW)
    done = item(session, second_item)
    assert (done.records_new, done.records_changed, done.records_unchanged) == (1, 1, 1)
    counts = run(session, second_run)
    assert (counts.records_new, counts.records_changed) == (1, 1)
    stored = session.scalars(sa.select(Outcome).where(Outcome.item_id == second_item)).one()
    assert (stored.records_new, stored.records_changed, stored.records_unchanged) == (1, 1, 1)


def test_failure_is_recorded_and_run_ends_with_errors(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id, item_id = _one_item_run(session, firm_id)
    failed = outcome(
        item_id, run_id, "failed", attempts=4, error_code="portal_down", error_message="503"
    )
    assert apply_outcome(session, failed, NOW).completed
    done = item(session, item_id)
    assert (done.status, done.error_code, done.error_message) == (
        ItemStatus.FAILED,
        "portal_down",
        "503",
    )
    finished = run(session, run_id)
    assert (finished.status, finished.items_failed) == (RunStatus.COMPLETED_WITH_ERRORS, 1)


def test_duplicate_outcome_changes_nothing(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    created = start_run(session, firm_id, CHALLANS)
    first, _ = item_ids(session, created.run_id)
    message = outcome(first, created.run_id, records=[challan("00001")])
    assert apply_outcome(session, message, NOW).applied
    again = apply_outcome(session, message, NOW)
    assert not again.applied and not again.completed
    assert run(session, created.run_id).items_succeeded == 1
    assert run(session, created.run_id).records_new == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Outcome)) == 1


def test_outcome_for_cancelled_item_is_ignored(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id, item_id = _one_item_run(session, firm_id)
    cancel_run(session, firm_id, run_id, NOW)
    result = apply_outcome(session, outcome(item_id, run_id, records=[challan("00001")]), NOW)
    assert not result.applied
    assert item(session, item_id).status == ItemStatus.CANCELLED
    assert session.scalar(sa.select(sa.func.count()).select_from(Outcome)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(PaidChallanRecord)) == 0
    assert run(session, run_id).items_succeeded == 0


def test_outcome_for_unknown_or_mismatched_item_is_ignored(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id, item_id = _one_item_run(session, firm_id)
    assert not apply_outcome(session, outcome(item_id + 999, run_id), NOW).applied
    assert not apply_outcome(session, outcome(item_id, run_id + 999), NOW).applied
    assert item(session, item_id).status == ItemStatus.PENDING


def test_unreadable_records_fail_the_item_instead_of_looping(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    run_id, item_id = _one_item_run(session, firm_id)
    message = outcome(item_id, run_id).model_copy(
        update={"records": [{"type": "Invoice", "content": {}}]}
    )
    assert apply_outcome(session, message, NOW).applied
    done = item(session, item_id)
    assert done.status == ItemStatus.FAILED
    assert done.error_code == "invalid_records"
    assert "Invoice" in (done.error_message or "")


def test_completion_is_claimed_once_with_one_event(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 3)
    created = start_run(session, firm_id, CHALLANS)
    ids = item_ids(session, created.run_id)
    results = [
        apply_outcome(session, outcome(ids[0], created.run_id), NOW),
        apply_outcome(session, outcome(ids[1], created.run_id, "skipped"), NOW),
        apply_outcome(session, outcome(ids[2], created.run_id), NOW),
    ]
    assert [r.completed for r in results] == [False, False, True]
    events = session.scalars(sa.select(OutboxEvent).order_by(OutboxEvent.id)).all()
    # a third and two thirds of the run each crossed a quarter: progress, then the end
    assert [e.event_type for e in events] == [
        "syncbucket.run.progress",
        "syncbucket.run.progress",
        "syncbucket.run.completed",
    ]
    event = events[-1]
    assert (event.event_type, event.routing_key) == ("syncbucket.run.completed", "run.completed")
    assert event.payload["run_id"] == created.run_id
    assert event.payload["status"] == "completed"
    assert event.payload["counts"]["skipped"] == 1
    assert event.payload["completed_at"] == "2026-02-01T09:00:00Z"
