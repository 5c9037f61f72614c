"""On PostgreSQL, outcomes racing on a run's last items complete it exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunStatus
from syncbucket.pipeline.aggregator import ApplyResult, apply_outcome
from tests.support.pipeline import NOW, add_clients, add_firm, item_ids, outcome, run, start_run

pytestmark = pytest.mark.integration

ROUNDS = 20


def _run_with_items(sessions: SessionFactory, count: int) -> tuple[int, list[int]]:
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, count)
        created = start_run(session, firm_id, [ModuleKey.VERIFY_LDC])
        return created.run_id, item_ids(session, created.run_id)


def _race(sessions: SessionFactory, messages: list[OutcomeMessage]) -> list[ApplyResult]:
    barrier = threading.Barrier(len(messages))

    def apply(message: OutcomeMessage) -> ApplyResult:
        with unit_of_work(sessions) as session:
            barrier.wait()
            return apply_outcome(session, message, NOW)

    with ThreadPoolExecutor(len(messages)) as pool:
        return list(pool.map(apply, messages))


def _events_for(sessions: SessionFactory, run_id: int) -> int:
    with unit_of_work(sessions) as session:
        query = sa.select(OutboxEvent.payload).where(
            OutboxEvent.event_type == "syncbucket.run.completed"
        )
        rows = session.scalars(query).all()
        return sum(1 for payload in rows if payload["run_id"] == run_id)


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_last_two_items_race_one_completion(pg_sessions: SessionFactory, round_no: int) -> None:
    run_id, ids = _run_with_items(pg_sessions, 3)
    with unit_of_work(pg_sessions) as session:
        apply_outcome(session, outcome(ids[0], run_id), NOW)
    last = [outcome(ids[1], run_id, "failed", error_code="x"), outcome(ids[2], run_id)]
    results = _race(pg_sessions, last)
    assert all(r.applied for r in results)
    assert sum(r.completed for r in results) == 1
    assert _events_for(pg_sessions, run_id) == 1
    with unit_of_work(pg_sessions) as session:
        finished = run(session, run_id)
        assert finished.status == RunStatus.COMPLETED_WITH_ERRORS
        assert finished.items_done == finished.total_items == 3


def test_duplicate_outcomes_racing_apply_once(pg_sessions: SessionFactory) -> None:
    run_id, (only,) = _run_with_items(pg_sessions, 1)
    results = _race(pg_sessions, [outcome(only, run_id)] * 4)
    assert sum(r.applied for r in results) == 1
    assert sum(r.completed for r in results) == 1
    assert _events_for(pg_sessions, run_id) == 1
    with unit_of_work(pg_sessions) as session:
        assert run(session, run_id).items_succeeded == 1
