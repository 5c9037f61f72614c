"""claim_completion: the conditional UPDATE, final status, exactly one outbox row."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.outbox import OutboxEvent
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunStatus
from syncbucket.pipeline.aggregator import apply_outcome
from syncbucket.pipeline.completion import claim_completion
from syncbucket.pipeline.runs import cancel_run
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, run, start_run


def _events(session: Session) -> int:
    """run.completed events written (progress events are not this module's business)."""
    query = sa.select(sa.func.count()).where(OutboxEvent.event_type == "syncbucket.run.completed")
    return int(session.scalar(query) or 0)


def test_not_done_is_not_claimed(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
    assert not claim_completion(session, created.run_id, NOW)
    assert run(session, created.run_id).completed_at is None
    assert _events(session) == 0


def test_claimed_once_then_never_again(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 1)
    created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
    (only,) = item_ids(session, created.run_id)
    assert apply_outcome(session, outcome(only, created.run_id), NOW).completed
    assert not claim_completion(session, created.run_id, NOW)
    assert _events(session) == 1
    assert run(session, created.run_id).status == RunStatus.COMPLETED


def test_cancelled_run_ends_cancelled_even_with_failures(session: Session) -> None:
    firm_id = add_firm(session)
    add_clients(session, firm_id, 2)
    created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
    first, _ = item_ids(session, created.run_id)
    apply_outcome(session, outcome(first, created.run_id, "failed", error_code="x"), NOW)
    cancel_run(session, firm_id, created.run_id, NOW)
    finished = run(session, created.run_id)
    assert finished.status == RunStatus.CANCELLED
    assert (finished.items_failed, finished.items_cancelled) == (1, 1)
    assert _events(session) == 1
    payload = session.scalars(
        sa.select(OutboxEvent.payload).where(OutboxEvent.event_type == "syncbucket.run.completed")
    ).one()
    assert payload["status"] == "cancelled"
    assert payload["cancel_requested_at"] == "2026-02-01T09:00:00Z"
