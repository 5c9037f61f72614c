"""On PostgreSQL, relays claiming the outbox concurrently never get the same row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.pipeline import events, outbox
from tests.support.pipeline import NOW

pytestmark = pytest.mark.integration

EVENTS = 200
BATCH = 7


def _add_events(sessions: SessionFactory, count: int) -> set[int]:
    with unit_of_work(sessions) as session:
        session.execute(sa.delete(OutboxEvent))
        rows = [
            outbox.write_event(
                session, events.RUN_COMPLETED_TYPE, "run.completed", {"run_id": n}, NOW
            )
            for n in range(count)
        ]
        return {row.id for row in rows}


def _claim_until_empty(sessions: SessionFactory, start: threading.Barrier) -> list[int]:
    """A relay's loop without publishing: claim batches (each committed) until none is left."""
    start.wait()
    claimed: list[int] = []
    while True:
        with unit_of_work(sessions) as session:
            batch = [row.id for row in outbox.pending_events(session, BATCH, now=NOW)]
        if not batch:
            return claimed
        claimed += batch


def test_two_claimers_never_get_the_same_row(pg_sessions: SessionFactory) -> None:
    ids = _add_events(pg_sessions, EVENTS)
    start = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: _claim_until_empty(pg_sessions, start), range(2))
    assert not set(first) & set(second)
    assert len(first) + len(second) == EVENTS
    assert set(first) | set(second) == ids


def test_an_expired_claim_is_picked_up_again(pg_sessions: SessionFactory) -> None:
    (row_id,) = _add_events(pg_sessions, 1)
    with unit_of_work(pg_sessions) as session:
        assert [r.id for r in outbox.pending_events(session, now=NOW)] == [row_id]
    with unit_of_work(pg_sessions) as session:  # the first claimer is presumed alive
        assert outbox.pending_events(session, now=NOW + timedelta(seconds=30)) == []
    with unit_of_work(pg_sessions) as session:  # ... until its lease runs out
        later = NOW + outbox.CLAIM_LEASE + timedelta(seconds=1)
        assert [r.id for r in outbox.pending_events(session, now=later)] == [row_id]
