"""dispatch_tick on a real (SQLite) database: windows, fairness, cancel, publish failure."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncbucket.db.items import Item
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus, RunSource, RunStatus
from syncbucket.pipeline.dispatcher import dispatch_tick
from syncbucket.pipeline.runs import cancel_run
from tests.support.pipeline import (
    NOW,
    FakePublisher,
    add_clients,
    add_firm,
    item,
    item_ids,
    run,
    start_run,
)

WINDOWS = {"traces": 10, "itportal": 4}


def _setup(sessions: SessionFactory, clients: int, modules: list[ModuleKey], **kw: object) -> int:
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, clients)
        return start_run(session, firm_id, modules, **kw).run_id


def _statuses(sessions: SessionFactory, run_id: int) -> Counter[str]:
    with unit_of_work(sessions) as session:
        rows = session.execute(
            sa.select(Item.status, sa.func.count())
            .where(Item.run_id == run_id)
            .group_by(Item.status)
        )
        return Counter({status.value: count for status, count in rows})


def test_first_tick_fills_each_window_and_starts_the_run(session_factory: SessionFactory) -> None:
    run_id = _setup(session_factory, 30, [ModuleKey.VERIFY_LDC, ModuleKey.FETCH_CHALLANS])
    publisher = FakePublisher()
    releases = dispatch_tick(session_factory, publisher, WINDOWS, NOW)
    assert {(r.portal, r.count) for r in releases} == {("traces", 10), ("itportal", 4)}
    assert Counter(m.portal for m in publisher.published) == {"traces": 10, "itportal": 4}
    with unit_of_work(session_factory) as session:
        started = run(session, run_id)
        assert (started.status, started.started_at) == (RunStatus.RUNNING, NOW)
        first = item(session, publisher.published[0].item_id)
        assert (first.status, first.queued_at) == (ItemStatus.QUEUED, NOW)
        assert first.deadline_at == NOW + timedelta(minutes=15)
        oldest = item_ids(session, run_id)[0]
    assert min(m.item_id for m in publisher.published) == oldest  # oldest ids first
    message = publisher.published[0]
    assert (message.run_id, message.module, message.v) == (run_id, message.module, 1)


def test_full_window_releases_nothing_more(session_factory: SessionFactory) -> None:
    _setup(session_factory, 30, [ModuleKey.VERIFY_LDC])
    publisher = FakePublisher()
    dispatch_tick(session_factory, publisher, WINDOWS, NOW)
    assert dispatch_tick(session_factory, publisher, WINDOWS, NOW) == []
    assert len(publisher.published) == 10


def test_small_run_started_during_a_big_one_goes_next_tick(
    session_factory: SessionFactory,
) -> None:
    big = _setup(session_factory, 200, [ModuleKey.VERIFY_LDC], source=RunSource.SCHEDULE)
    publisher = FakePublisher()
    dispatch_tick(session_factory, publisher, WINDOWS, NOW)
    small = _setup(session_factory, 1, [ModuleKey.VERIFY_LDC], source=RunSource.SCHEDULE)
    with unit_of_work(session_factory) as session:  # two of the big run's items finish
        done = [m.item_id for m in publisher.published[:2]]
        session.execute(
            sa.update(Item).where(Item.id.in_(done)).values(status=ItemStatus.SUCCEEDED)
        )
    releases = dispatch_tick(session_factory, publisher, WINDOWS, NOW)
    assert {(r.run_id, r.count) for r in releases} == {(small, 1), (big, 1)}
    assert _statuses(session_factory, small) == {"queued": 1}


def test_cancelled_runs_are_not_released(session_factory: SessionFactory) -> None:
    run_id = _setup(session_factory, 5, [ModuleKey.VERIFY_LDC])
    with unit_of_work(session_factory) as session:
        firm_id = run(session, run_id).firm_id
        cancel_run(session, firm_id, run_id, NOW)
    publisher = FakePublisher()
    assert dispatch_tick(session_factory, publisher, WINDOWS, NOW) == []
    assert publisher.published == []
    assert _statuses(session_factory, run_id) == {"cancelled": 5}


def test_publisher_failure_leaves_items_pending(session_factory: SessionFactory) -> None:
    run_id = _setup(session_factory, 5, [ModuleKey.VERIFY_LDC])
    with pytest.raises(ConnectionError):
        dispatch_tick(session_factory, FakePublisher(fail=True), WINDOWS, NOW)
    assert _statuses(session_factory, run_id) == {"pending": 5}
    with unit_of_work(session_factory) as session:
        assert run(session, run_id).status == RunStatus.PENDING
    assert len(dispatch_tick(session_factory, FakePublisher(), WINDOWS, NOW)) == 1


def test_only_portals_with_a_window_are_released(session_factory: SessionFactory) -> None:
    _setup(session_factory, 3, [ModuleKey.NOTICES_ORDERS])
    publisher = FakePublisher()
    dispatch_tick(session_factory, publisher, {"itportal": 10}, NOW)
    assert {m.portal for m in publisher.published} == {"itportal"}
    assert len(publisher.published) == 3
