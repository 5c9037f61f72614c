"""10,000 clients x every module on PostgreSQL: create_run and a dispatch tick stay fast.

Times are printed (``pytest -s``), not asserted: they depend on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest
import sqlalchemy as sa

from syncbucket.db.clients import Client
from syncbucket.db.items import Item
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.runs import ItemStatus, RunSource
from syncbucket.pipeline.dispatcher import dispatch_tick
from tests.support.pipeline import NOW, FakePublisher, add_clients, add_firm, start_run

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 10_000
WINDOWS = {"traces": 48, "itportal": 48}
T = TypeVar("T")


def _timed(label: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    print(f"\n{label}: {time.perf_counter() - started:.3f}s")
    return result


def test_ten_thousand_clients_every_module(pg_sessions: SessionFactory) -> None:
    with unit_of_work(pg_sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, CLIENTS)

    def create() -> int:
        with unit_of_work(pg_sessions) as session:
            created = start_run(session, firm_id, source=RunSource.SCHEDULE)
            return created.total_items

    total = _timed(f"create_run {CLIENTS} clients x 6 modules (PostgreSQL)", create)
    assert total == CLIENTS * 7

    def create_by_ids() -> int:
        with unit_of_work(pg_sessions) as session:
            ids = list(session.scalars(sa.select(Client.id).where(Client.firm_id == firm_id)))
            created = start_run(session, firm_id, client_ids=ids, source=RunSource.SCHEDULE)
            return created.total_items

    assert _timed("create_run by 10,000 explicit ids", create_by_ids) == CLIENTS * 7
    with unit_of_work(pg_sessions) as session:
        session.execute(sa.text("ANALYZE items"))

    publisher = FakePublisher()
    releases = _timed(
        "dispatch_tick on a 140,000-item backlog",
        lambda: dispatch_tick(pg_sessions, publisher, WINDOWS, NOW),
    )
    assert sum(r.count for r in releases) == 96  # the backlog now holds 140,000 items
    assert (
        _timed(
            "dispatch_tick, windows full",
            lambda: dispatch_tick(pg_sessions, publisher, WINDOWS, NOW),
        )
        == []
    )

    small = _small_run(pg_sessions, firm_id)
    _finish(pg_sessions, [m.item_id for m in publisher.published[:10]])
    releases = _timed(
        "dispatch_tick, 10 slots free, small run waiting",
        lambda: dispatch_tick(pg_sessions, publisher, WINDOWS, NOW),
    )
    assert small in {r.run_id for r in releases}


def _small_run(sessions: SessionFactory, firm_id: int) -> int:
    with unit_of_work(sessions) as session:
        (client,) = add_clients(session, firm_id, 1, start=CLIENTS + 1)
        return start_run(session, firm_id, client_ids=[client]).run_id


def _finish(sessions: SessionFactory, ids: list[int]) -> None:
    with unit_of_work(sessions) as session:
        session.execute(sa.update(Item).where(Item.id.in_(ids)).values(status=ItemStatus.SUCCEEDED))
