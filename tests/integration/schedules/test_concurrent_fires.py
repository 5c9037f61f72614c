"""On PostgreSQL, coordinators firing the same due schedule at once make exactly one run."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from syncbucket.db.runs import Run
from syncbucket.db.schedules import FireOutcome, Schedule, ScheduleFire
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.schedules.firing import FireReport, fire_due_schedules
from syncbucket.schedules.manage import add_schedule
from syncbucket.schedules.spec import schedule_spec
from tests.support.pipeline import add_clients, add_firm

pytestmark = pytest.mark.integration

CREATED = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)
DUE = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)  # 02:00 IST, the first instant
GRACE = timedelta(hours=1)
ROUNDS = 10


def _firm_with_schedules(sessions: SessionFactory, count: int) -> tuple[int, list[int]]:
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session)
        add_clients(session, firm_id, 20)
        ids = [
            add_schedule(
                session,
                firm_id,
                schedule_spec(name=f"nightly {n}", cron="0 2 * * *", modules=["verify_ldc"]),
                created_by="test",
                now=CREATED,
            ).id
            for n in range(count)
        ]
    return firm_id, ids


def _race(sessions: SessionFactory, callers: int, now: datetime) -> list[FireReport]:
    barrier = threading.Barrier(callers)

    def one_coordinator(_: int) -> FireReport:
        barrier.wait()
        return fire_due_schedules(sessions, now, grace=GRACE)

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(one_coordinator, range(callers)))


def _counts(sessions: SessionFactory, firm_id: int, schedule_ids: list[int]) -> tuple[int, int]:
    with unit_of_work(sessions) as session:
        runs = session.scalar(sa.select(sa.func.count()).where(Run.firm_id == firm_id))
        fires = session.scalar(
            sa.select(sa.func.count()).where(ScheduleFire.schedule_id.in_(schedule_ids))
        )
    return int(runs or 0), int(fires or 0)


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_two_coordinators_fire_one_schedule_once(
    pg_sessions: SessionFactory, round_no: int
) -> None:
    firm_id, ids = _firm_with_schedules(pg_sessions, 1)
    reports = _race(pg_sessions, 2, DUE + timedelta(seconds=2))
    started = [fire for report in reports for fire in report.fires]
    assert [fire.outcome for fire in started] == [FireOutcome.STARTED]
    assert _counts(pg_sessions, firm_id, ids) == (1, 1)
    with unit_of_work(pg_sessions) as session:
        row = session.get(Schedule, ids[0])
        assert row is not None and row.next_fire_at == DUE + timedelta(days=1)
        assert row.last_run_id == started[0].run_id


def test_four_coordinators_and_many_schedules_one_run_each(pg_sessions: SessionFactory) -> None:
    firm_id, ids = _firm_with_schedules(pg_sessions, 12)
    reports = _race(pg_sessions, 4, DUE)
    fired = sorted(fire.schedule_id for report in reports for fire in report.fires)
    assert fired == sorted(ids)
    assert _counts(pg_sessions, firm_id, ids) == (12, 12)


def test_a_schedule_locked_by_another_coordinator_is_passed_over(
    pg_sessions: SessionFactory,
) -> None:
    firm_id, (schedule_id,) = _firm_with_schedules(pg_sessions, 1)
    with unit_of_work(pg_sessions) as holder:  # another coordinator, mid-transaction
        holder.execute(sa.select(Schedule.id).where(Schedule.id == schedule_id).with_for_update())
        report = fire_due_schedules(pg_sessions, DUE, grace=GRACE)  # must not wait
        assert report.fires == ()
    assert _counts(pg_sessions, firm_id, [schedule_id]) == (0, 0)
    assert len(fire_due_schedules(pg_sessions, DUE, grace=GRACE).fires) == 1
    assert _counts(pg_sessions, firm_id, [schedule_id]) == (1, 1)
