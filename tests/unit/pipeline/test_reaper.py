"""reap: overdue items go back to pending, then fail as timed_out; every run ends."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncbucket.config import Settings
from syncbucket.contracts.messages import OutcomeMessage
from syncbucket.db.items import Item
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunStatus
from syncbucket.pipeline.dispatcher import dispatch_tick
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.runs import cancel_run
from tests.support.pipeline import NOW, FakePublisher, add_clients, add_firm, item, run, start_run

SETTINGS = Settings(max_item_releases=1, item_queued_timeout_seconds=60)
WINDOWS = {"traces": 10, "itportal": 10}
LATER = NOW + timedelta(minutes=2)


def _dispatched_run(sessions: SessionFactory, clients: int = 1) -> tuple[int, list[int]]:
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, clients)
        run_id = start_run(session, firm_id, [ModuleKey.VERIFY_LDC]).run_id
    publisher = FakePublisher()
    dispatch_tick(sessions, publisher, WINDOWS, NOW, queued_timeout=timedelta(seconds=60))
    return run_id, [m.item_id for m in publisher.published]


def test_nothing_overdue_nothing_done(session_factory: SessionFactory) -> None:
    _dispatched_run(session_factory)
    report = reap(session_factory, None, NOW + timedelta(seconds=30), SETTINGS)
    assert (report.released, report.failed) == (0, 0)


def test_re_release_then_timed_out_and_the_run_ends(session_factory: SessionFactory) -> None:
    run_id, (item_id,) = _dispatched_run(session_factory)
    assert reap(session_factory, None, LATER, SETTINGS).released == 1
    with unit_of_work(session_factory) as session:
        back = item(session, item_id)
        assert (back.status, back.releases, back.deadline_at) == (ItemStatus.PENDING, 1, None)
    dispatch_tick(session_factory, FakePublisher(), WINDOWS, LATER)  # released again
    seen: list[OutcomeMessage] = []
    report = reap(session_factory, seen.append, LATER + timedelta(minutes=20), SETTINGS)
    assert (report.released, report.failed) == (0, 1)
    assert [(o.item_id, o.error_code) for o in seen] == [(item_id, "timed_out")]
    with unit_of_work(session_factory) as session:
        failed = item(session, item_id)
        assert failed.status == ItemStatus.FAILED and failed.error_code == "timed_out"
        assert "TRACES" in (failed.error_message or "")
        ended = run(session, run_id)
        assert ended.status == RunStatus.COMPLETED_WITH_ERRORS and ended.items_failed == 1


def test_item_picked_up_with_a_fresh_deadline_is_left_alone(
    session_factory: SessionFactory,
) -> None:
    _, (item_id,) = _dispatched_run(session_factory)
    with unit_of_work(session_factory) as session:  # the worker marks it running just now
        session.execute(
            sa.update(Item)
            .where(Item.id == item_id)
            .values(status=ItemStatus.RUNNING, deadline_at=LATER + timedelta(minutes=5))
        )
    assert reap(session_factory, None, LATER, SETTINGS).released == 0


def test_stuck_items_of_a_cancelled_run_are_cancelled(session_factory: SessionFactory) -> None:
    run_id, _ = _dispatched_run(session_factory, clients=2)
    with unit_of_work(session_factory) as session:
        cancel_run(session, run(session, run_id).firm_id, run_id, NOW)
    report = reap(session_factory, None, LATER, SETTINGS)
    assert report.cancelled == 2
    with unit_of_work(session_factory) as session:
        assert run(session, run_id).status == RunStatus.CANCELLED


def test_pending_item_left_in_a_cancelled_run_is_swept(session_factory: SessionFactory) -> None:
    run_id, (first, second) = _dispatched_run(session_factory, clients=2)
    with unit_of_work(session_factory) as session:
        cancel_run(session, run(session, run_id).firm_id, run_id, NOW)
        # as if the reaper re-released it while the cancel was committing
        session.execute(sa.update(Item).where(Item.id == second).values(status=ItemStatus.PENDING))
    reap(session_factory, None, NOW, SETTINGS)  # nothing overdue yet; the sweep still runs
    with unit_of_work(session_factory) as session:
        assert item(session, second).status == ItemStatus.CANCELLED
        assert item(session, first).status == ItemStatus.QUEUED
        assert run(session, run_id).completed_at is None  # first is still with a worker


def test_a_pass_takes_item_locks_before_run_locks_in_each_transaction(
    session_factory: SessionFactory, engine: sa.Engine
) -> None:
    """Releases (items) before cancels and the sweep (runs): the aggregator's lock order."""
    _, (stuck,) = _dispatched_run(session_factory)
    cancelling, _ = _dispatched_run(session_factory, clients=2)
    with unit_of_work(session_factory) as session:
        cancel_run(session, run(session, cancelling).firm_id, cancelling, NOW)
    writes: list[str] = []

    def note(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("UPDATE runs"):
            writes.append("run")
        elif statement.startswith("UPDATE items") and "releases" in statement:
            writes.append("release")

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        report = reap(session_factory, None, LATER, SETTINGS)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert (report.released, report.cancelled) == (1, 2)
    assert writes.index("release") < writes.index("run")
    assert item_status(session_factory, stuck) == ItemStatus.PENDING


def item_status(sessions: SessionFactory, item_id: int) -> ItemStatus:
    with unit_of_work(sessions) as session:
        return item(session, item_id).status
