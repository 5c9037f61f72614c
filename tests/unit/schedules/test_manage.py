"""Adding, listing, pausing, resuming and removing schedules, always within one firm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncbucket.db.runs import Run
from syncbucket.db.schedules import ScheduleFire
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.schedules.errors import ScheduleNameTaken, ScheduleNotFound
from syncbucket.schedules.manage import pause_schedule, remove_schedule, resume_schedule
from syncbucket.schedules.views import fire_history, get_schedule, list_schedules, schedule_id_named
from tests.unit.schedules.support import Clock, fire, make_firm, runs, schedule


def test_a_schedule_is_listed_with_what_it_does(
    session_factory: SessionFactory, clock: Clock
) -> None:
    firm = make_firm(session_factory)
    schedule(session_factory, firm, clock, name="b weekly", cron="0 6 * * 1", modules="all")
    schedule(
        session_factory,
        firm,
        clock,
        name="a failed",
        cron="30 1 * * *",
        time_zone="Europe/London",
        client_filter={"failed_last_time": True},
        modules=["verify_ldc"],
    )
    with unit_of_work(session_factory) as session:
        listed = list_schedules(session, firm.id)
    assert [s.name for s in listed] == ["a failed", "b weekly"]
    failed, weekly = listed
    assert failed.clients == {"filter": {"failed_last_time": True}}
    assert failed.clients_described == "active clients matching: failed last time"
    assert failed.modules == ["verify_ldc"] and failed.time_zone == "Europe/London"
    assert failed.next_fire_at == datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    assert failed.next_fire_local == "2026-12-01T01:30+00:00"
    assert weekly.clients == "all" and weekly.modules == "all"
    assert weekly.next_fire_local == "2026-12-07T06:00+05:30"  # the next Monday
    assert weekly.created_by == "test" and weekly.active


def test_names_are_unique_per_firm_only(session_factory: SessionFactory, clock: Clock) -> None:
    firm, other = make_firm(session_factory), make_firm(session_factory)
    schedule(session_factory, firm, clock, name="nightly")
    with pytest.raises(ScheduleNameTaken) as taken:
        schedule(session_factory, firm, clock, name=" nightly ")
    assert taken.value.field == "name" and "'nightly' already exists" in str(taken.value)
    assert schedule(session_factory, other, clock, name="nightly").name == "nightly"


def test_another_firms_schedule_is_not_found(session_factory: SessionFactory, clock: Clock) -> None:
    firm, other = make_firm(session_factory), make_firm(session_factory)
    theirs = schedule(session_factory, other, clock)
    with unit_of_work(session_factory) as session:
        assert list_schedules(session, firm.id) == []
        for act in (
            lambda: get_schedule(session, firm.id, theirs.id),
            lambda: pause_schedule(session, firm.id, theirs.id, clock()),
            lambda: resume_schedule(session, firm.id, theirs.id, clock()),
            lambda: remove_schedule(session, firm.id, theirs.id),
            lambda: fire_history(session, firm.id, theirs.id),
            lambda: schedule_id_named(session, firm.id, "nightly"),
        ):
            with pytest.raises(ScheduleNotFound):
                act()
    with unit_of_work(session_factory) as session:
        assert get_schedule(session, other.id, theirs.id).active


def test_pause_and_resume_are_idempotent(session_factory: SessionFactory, clock: Clock) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    with unit_of_work(session_factory) as session:
        pause_schedule(session, firm.id, made.id, clock())
        again = pause_schedule(session, firm.id, made.id, clock())
        assert not again.active and again.next_fire_at is None
        resumed = resume_schedule(session, firm.id, made.id, clock())
        clock.advance(hours=5)
        still = resume_schedule(session, firm.id, made.id, clock())
    assert resumed.next_fire_at == still.next_fire_at == made.next_fire_at


def test_remove_keeps_the_runs_it_started(session_factory: SessionFactory, clock: Clock) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock)
    clock.set(made.next_fire_at + timedelta(seconds=1))  # type: ignore[operator]
    fire(session_factory, clock)
    with unit_of_work(session_factory) as session:
        assert schedule_id_named(session, firm.id, "nightly") == made.id
        remove_schedule(session, firm.id, made.id)
    with unit_of_work(session_factory) as session:
        assert list_schedules(session, firm.id) == []
        assert session.scalar(sa.select(sa.func.count()).select_from(ScheduleFire)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Run)) == 1
    assert len(runs(session_factory, firm)) == 1


def test_the_fire_history_pages_newest_first(session_factory: SessionFactory, clock: Clock) -> None:
    firm = make_firm(session_factory)
    made = schedule(session_factory, firm, clock, client_filter={"search": "Nobody"})
    assert made.next_fire_at is not None
    for day in range(7):  # refused every day: seven fire rows
        clock.set(made.next_fire_at + timedelta(days=day))
        fire(session_factory, clock)
    with unit_of_work(session_factory) as session:
        first = fire_history(session, firm.id, made.id, limit=4)
        assert len(first.fires) == 4 and first.next_before_id is not None
        rest = fire_history(session, firm.id, made.id, limit=4, before_id=first.next_before_id)
        shown = get_schedule(session, firm.id, made.id)
    assert len(rest.fires) == 3 and rest.next_before_id is None
    times = [f.fire_time for f in first.fires + rest.fires]
    assert times == sorted(times, reverse=True)
    assert [f.id for f in shown.recent_fires] == [f.id for f in first.fires + rest.fires][:5]
    assert shown.last_fire is not None and shown.last_fire.outcome == "refused"
