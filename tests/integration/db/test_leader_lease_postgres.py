"""The leader lease on real PostgreSQL (docs/architecture.md §18): contention, expiry by
the database's clock, fencing tokens, release, and the guard's lock.

Every test gets a migrated database of its own: the lease row is global to a database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from syncbucket.coordination.lease import LeaderLease, LeaseLost
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.items import Item
from syncbucket.db.leases import Lease
from syncbucket.db.migrate import upgrade
from syncbucket.db.session import SessionFactory, make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import ItemStatus
from syncbucket.pipeline.dispatcher import dispatch_tick
from tests.support.db import scratch_postgres
from tests.support.pipeline import NOW, add_clients, add_firm, start_run
from tests.unit.coordinator.fixtures import FakePublisher

pytestmark = pytest.mark.integration

TTL = 2.0


@pytest.fixture
def sessions(postgres_server_url: str) -> Iterator[SessionFactory]:
    """A migrated database of this test's own."""
    with scratch_postgres(postgres_server_url) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=12, max_overflow=0)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def make(sessions: SessionFactory, holder: str, **kw: object) -> LeaderLease:
    return LeaderLease(sessions, holder=holder, ttl_seconds=TTL, **kw)  # type: ignore[arg-type]


def lease_row(sessions: SessionFactory) -> Lease:
    with unit_of_work(sessions) as session:
        row = session.get(Lease, "coordinator")
        assert row is not None
        return row


def contend(leases: list[LeaderLease]) -> list[int | None]:
    """Every lease tries at the same instant, each on its own thread and connection."""
    barrier = threading.Barrier(len(leases))
    results: list[int | None] = [None] * len(leases)

    def attempt(index: int) -> None:
        barrier.wait()
        results[index] = leases[index].try_acquire_or_renew()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_of_many_simultaneous_contenders_exactly_one_holds(sessions: SessionFactory) -> None:
    first = contend([make(sessions, f"h{i}") for i in range(10)])  # the row does not exist yet
    assert sorted(first, key=lambda t: t or 0)[-1] == 1 and first.count(None) == 9
    time.sleep(TTL + 0.2)  # the winner never renews: expired
    second = contend([make(sessions, f"k{i}") for i in range(10)])
    assert [t for t in second if t is not None] == [2]
    winner = second.index(2)
    assert lease_row(sessions).holder == f"k{winner}"


def test_a_holder_that_stops_renewing_is_replaced_only_after_its_lease_expired(
    sessions: SessionFactory,
) -> None:
    a, b = make(sessions, "a"), make(sessions, "b")
    a_started = time.monotonic()
    assert a.try_acquire_or_renew() == 1
    a_expires = lease_row(sessions).expires_at
    a_stopped: float | None = None
    b_token = None
    while b_token is None:
        if a_stopped is None and not a.holds():
            a_stopped = time.monotonic()
        b_token = b.try_acquire_or_renew()
        assert time.monotonic() - a_started < TTL + 3, "b never got the lease"
        time.sleep(0.02)
    b_got = time.monotonic()
    assert b_token == 2
    row = lease_row(sessions)
    assert row.holder == "b" and row.acquired_at is not None and a_expires is not None
    assert row.acquired_at > a_expires  # the database let b in only after a's expiry
    assert b_got - a_started >= TTL  # whatever the hosts' clocks say
    assert a_stopped is not None and b_got - a_stopped >= a.safety_margin_seconds
    assert not a.holds() and a.try_acquire_or_renew() is None


def test_the_fencing_token_counts_tenures_not_renewals(sessions: SessionFactory) -> None:
    a, b = make(sessions, "a"), make(sessions, "b")
    assert [a.try_acquire_or_renew() for _ in range(3)] == [1, 1, 1]
    assert a.release()
    assert [b.try_acquire_or_renew() for _ in range(2)] == [2, 2]
    assert b.release()
    assert a.try_acquire_or_renew() == 3


def test_release_hands_the_lease_over_at_once(sessions: SessionFactory) -> None:
    a, b = make(sessions, "a"), make(sessions, "b")
    assert a.try_acquire_or_renew() == 1
    assert b.try_acquire_or_renew() is None
    started = time.monotonic()
    assert a.release() is True
    assert b.try_acquire_or_renew() == 2
    assert time.monotonic() - started < 0.5
    assert a.release() is False and lease_row(sessions).holder == "b"


def test_expiry_is_judged_by_the_database_clock_not_the_hosts(sessions: SessionFactory) -> None:
    """A contender whose clock runs a day ahead cannot take a running lease."""
    a = make(sessions, "a", clock=lambda: utcnow() - timedelta(days=1))
    b = make(sessions, "b", clock=lambda: utcnow() + timedelta(days=1))
    assert a.try_acquire_or_renew() == 1
    assert b.try_acquire_or_renew() is None
    with unit_of_work(sessions) as session:
        db_now = session.scalar(sa.select(sa.func.now()))
    row = lease_row(sessions)
    assert db_now is not None and row.expires_at is not None
    assert abs((row.expires_at - db_now).total_seconds() - TTL) < 0.5


def test_the_guard_keeps_contenders_out_until_the_guarded_transaction_ends(
    sessions: SessionFactory,
) -> None:
    a, b = make(sessions, "a"), make(sessions, "b")
    assert a.try_acquire_or_renew() == 1
    outcome: dict[str, float | int | None] = {}

    def take_over() -> None:
        outcome["token"] = b.try_acquire_or_renew()
        outcome["at"] = time.monotonic()

    with unit_of_work(sessions) as session:
        a.guard(session)  # passes: the row is now locked FOR SHARE until this commit
        time.sleep(TTL + 0.2)  # a slow commit: meanwhile the lease expires
        contender = threading.Thread(target=take_over)
        contender.start()
        time.sleep(0.5)
        assert contender.is_alive(), "the contender's UPDATE should wait for the guard's lock"
        committed = time.monotonic()
    contender.join(10)
    assert outcome["token"] == 2
    at = outcome["at"]
    assert isinstance(at, float) and at >= committed


def test_a_leader_paused_past_its_lease_cannot_commit_a_dispatch(
    sessions: SessionFactory,
) -> None:
    """The old leader's own clock is frozen (it believes it still leads); the row wins."""
    frozen = time.monotonic()
    old = make(sessions, "old", monotonic=lambda: frozen)
    new = make(sessions, "new")
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 3)
        run_id = start_run(session, firm_id, [ModuleKey.RETURN_SUMMARY]).run_id
    assert old.try_acquire_or_renew() == 1
    time.sleep(TTL + 0.2)
    assert new.try_acquire_or_renew() == 2
    assert old.holds()  # its belief...
    publisher = FakePublisher()
    windows = {"traces": 10, "itportal": 10}
    with pytest.raises(LeaseLost):
        dispatch_tick(sessions, publisher, windows, NOW, guard=old.guard)
    with unit_of_work(sessions) as session:  # ...and nothing it did was committed
        statuses = session.scalars(sa.select(Item.status).where(Item.run_id == run_id)).all()
    assert set(statuses) == {ItemStatus.PENDING}
    released = dispatch_tick(sessions, publisher, windows, NOW, guard=new.guard)
    assert sum(release.count for release in released) == 3


def test_a_renewal_never_waits_past_its_usefulness(sessions: SessionFactory) -> None:
    """A row lock held elsewhere makes the renewal fail within ttl - margin, not hang."""
    a = make(sessions, "a")
    assert a.try_acquire_or_renew() == 1
    with unit_of_work(sessions) as session:
        session.execute(sa.select(Lease).with_for_update())  # e.g. a stuck administrator
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            a.try_acquire_or_renew()
        took = time.monotonic() - started
    assert took < TTL - a.safety_margin_seconds + 0.5
    assert not a.holds()
