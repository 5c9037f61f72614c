"""The leader lease's rules on SQLite with a fake clock (docs/architecture.md §18).

One fake clock drives both the wall clock (SQLite's expiry) and the monotonic clock
(each holder's own deadline), so every instant in these tests is exact.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.coordination.lease import (
    LeaderLease,
    LeaseLost,
    default_holder,
    read_lease,
)
from syncbucket.db.leases import Lease
from syncbucket.db.session import SessionFactory, unit_of_work

TTL = 10.0
MARGIN = 2.0  # the default: a fifth of the ttl


class FakeClock:
    """Wall and monotonic time that move only when told, together."""

    def __init__(self) -> None:
        self.wall = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
        self.mono = 5_000.0
        self.on_now: Callable[[], None] | None = None

    def now(self) -> datetime:
        if self.on_now is not None:
            self.on_now()
        return self.wall

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


class FlakySessions:
    """A session factory whose database can be switched off."""

    def __init__(self, real: SessionFactory) -> None:
        self.real = real
        self.down = False

    def __call__(self) -> Session:
        if self.down:
            raise sa.exc.OperationalError("UPDATE leases", {}, Exception("server closed"))
        return self.real()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_lease(session_factory: SessionFactory, clock: FakeClock) -> Callable[..., LeaderLease]:
    def make(holder: str, sessions: SessionFactory | None = None) -> LeaderLease:
        return LeaderLease(
            sessions or session_factory,
            holder=holder,
            ttl_seconds=TTL,
            clock=clock.now,
            monotonic=clock.monotonic,
        )

    return make


def row(session_factory: SessionFactory) -> Lease:
    with unit_of_work(session_factory) as session:
        lease = session.get(Lease, "coordinator")
        assert lease is not None
        return lease


def test_the_first_contender_creates_the_row_and_takes_token_1(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    a = make_lease("a")
    assert a.try_acquire_or_renew() == 1
    assert a.holds() and a.token == 1
    stored = row(session_factory)
    assert stored.holder == "a" and stored.fencing_token == 1
    assert stored.acquired_at == stored.renewed_at == clock.wall
    assert stored.expires_at == clock.wall + timedelta(seconds=TTL)


def test_while_one_holds_the_lease_the_other_gets_nothing(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a, b = make_lease("a"), make_lease("b")
    assert a.try_acquire_or_renew() == 1
    for _ in range(3):
        clock.advance(a.renew_interval)
        assert b.try_acquire_or_renew() is None and not b.holds() and b.token is None
        assert a.try_acquire_or_renew() == 1  # a renewal keeps the token
    assert a.holds() and not b.holds()


def test_a_renewal_moves_both_deadlines_from_its_own_start(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    a = make_lease("a")
    a.try_acquire_or_renew()
    clock.advance(6.0)
    renewed_at = clock.wall
    assert a.try_acquire_or_renew() == 1
    assert row(session_factory).expires_at == renewed_at + timedelta(seconds=TTL)
    assert a.seconds_left() == pytest.approx(TTL - MARGIN)
    clock.advance(TTL - MARGIN - 0.01)
    assert a.holds()  # 6 + 7.99 s after the first acquisition: the renewal counted


def test_the_old_holder_stops_a_margin_before_anyone_else_may_start(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a, b = make_lease("a"), make_lease("b")
    start = clock.mono
    a.try_acquire_or_renew()
    clock.advance(TTL - MARGIN - 0.01)
    assert a.holds()
    clock.advance(0.02)
    assert not a.holds() and a.token is None  # a's own deadline: start + ttl - margin
    a_stopped = clock.mono
    clock.advance(MARGIN - 0.02)  # the database still says a's
    assert b.try_acquire_or_renew() is None
    clock.advance(0.02)
    assert b.try_acquire_or_renew() == 2  # expired: b takes it with a new token
    assert clock.mono - a_stopped >= MARGIN and clock.mono - start > TTL


def test_a_holder_that_stopped_renewing_finds_it_taken(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    a, b = make_lease("a"), make_lease("b")
    a.try_acquire_or_renew()
    clock.advance(TTL + 0.1)
    assert b.try_acquire_or_renew() == 2
    assert a.try_acquire_or_renew() is None and not a.holds()
    with unit_of_work(session_factory) as session, pytest.raises(LeaseLost):
        a.guard(session)
    stored = row(session_factory)
    assert stored.holder == "b" and stored.acquired_at == clock.wall


def test_every_change_of_holder_increments_the_token_and_renewals_do_not(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a, b = make_lease("a"), make_lease("b")
    tokens = []
    for holder in (a, b, a, a, b):
        if holder.try_acquire_or_renew() is None:
            clock.advance(TTL + 0.1)
        tokens.append(holder.try_acquire_or_renew())
    assert tokens == [1, 2, 3, 3, 4]


def test_release_hands_the_lease_over_at_once(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a, b = make_lease("a"), make_lease("b")
    a.try_acquire_or_renew()
    assert a.release() is True
    assert not a.holds()
    assert b.try_acquire_or_renew() == 2  # no clock advance at all
    assert a.release() is False  # not a's any more: the row is left alone
    assert b.holds()


def test_a_failed_renewal_stops_leading_at_once(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    sessions = FlakySessions(session_factory)
    a = make_lease("a", cast(SessionFactory, sessions))
    a.try_acquire_or_renew()
    clock.advance(1.0)
    sessions.down = True
    with pytest.raises(sa.exc.OperationalError):
        a.try_acquire_or_renew()
    assert not a.holds()  # 7 s before its deadline: it does not wait for it
    sessions.down = False
    assert a.try_acquire_or_renew() == 1  # still ours in the row: same tenure, same token


def test_a_renewal_slower_than_the_lease_does_not_count(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a = make_lease("a")
    a.try_acquire_or_renew()
    clock.on_now = lambda: setattr(clock, "mono", clock.mono + TTL)  # the call "takes" a ttl
    assert a.try_acquire_or_renew() is None
    assert not a.holds()


def test_the_holder_takes_back_its_own_expired_lease_when_nobody_else_did(
    make_lease: Callable[..., LeaderLease], clock: FakeClock
) -> None:
    a = make_lease("a")
    a.try_acquire_or_renew()
    clock.advance(TTL * 3)
    assert not a.holds()
    assert a.try_acquire_or_renew() == 1 and a.holds()


def test_the_guard_passes_while_held_and_refuses_past_the_local_deadline(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    a = make_lease("a")
    with unit_of_work(session_factory) as session, pytest.raises(LeaseLost):
        a.guard(session)  # never acquired
    a.try_acquire_or_renew()
    with unit_of_work(session_factory) as session:
        a.guard(session)
    clock.advance(TTL - MARGIN)
    with unit_of_work(session_factory) as session, pytest.raises(LeaseLost):
        a.guard(session)


def test_the_guard_trusts_the_row_over_the_holders_own_belief(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory
) -> None:
    a = make_lease("a")
    a.try_acquire_or_renew()
    with unit_of_work(session_factory) as session:  # taken from under a (its clock lied)
        session.execute(sa.update(Lease).values(holder="b", fencing_token=2))
    assert a.holds()
    with unit_of_work(session_factory) as session, pytest.raises(LeaseLost):
        a.guard(session)
    assert not a.holds()  # and a stops believing


def test_read_lease_says_who_leads_and_for_how_long(
    make_lease: Callable[..., LeaderLease], session_factory: SessionFactory, clock: FakeClock
) -> None:
    with session_factory() as session:
        assert read_lease(session, clock=clock.now) is None
    a = make_lease("a")
    a.try_acquire_or_renew()
    clock.advance(4.0)
    with session_factory() as session:
        view = a.view(session)
    assert view is not None
    assert (view.holder, view.active_holder, view.fencing_token) == ("a", "a", 1)
    assert view.expires_in_seconds == pytest.approx(TTL - 4.0)
    clock.advance(TTL)
    with session_factory() as session:
        expired = read_lease(session, clock=clock.now)
    assert expired is not None and expired.holder == "a" and expired.active_holder is None


def test_lease_names_are_independent(session_factory: SessionFactory, clock: FakeClock) -> None:
    one = LeaderLease(session_factory, name="one", holder="a", ttl_seconds=TTL, clock=clock.now)
    two = LeaderLease(session_factory, name="two", holder="b", ttl_seconds=TTL, clock=clock.now)
    assert one.try_acquire_or_renew() == 1 and two.try_acquire_or_renew() == 1


def test_default_holder_is_host_pid_and_random() -> None:
    first, second = default_holder(), default_holder()
    assert re.fullmatch(r".+:\d+:[0-9a-f]{8}", first) and first != second
    assert len(first) <= 200


@pytest.mark.parametrize(
    ("ttl", "margin", "message"),
    [(0.0, None, "ttl must be positive"), (10.0, 7.0, "no room to renew"), (10.0, -1, "room")],
)
def test_settings_that_cannot_work_are_refused(
    session_factory: SessionFactory, ttl: float, margin: float | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LeaderLease(session_factory, ttl_seconds=ttl, safety_margin_seconds=margin)
