"""A fake clock, a firm with clients, and helpers to add schedules and finish their runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from syncbucket.db.runs import Run
from syncbucket.db.schedules import ScheduleFire
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.pipeline.runs import cancel_run
from syncbucket.schedules.firing import FireReport, fire_due_schedules
from syncbucket.schedules.manage import add_schedule
from syncbucket.schedules.spec import schedule_spec
from syncbucket.schedules.views import ScheduleView, get_schedule
from tests.support.pipeline import add_clients, add_firm

GRACE = timedelta(hours=1)


class Clock:
    """The scheduler's clock, moved by tests; starts at 01 Dec 2026 00:00 IST."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 18, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment
        return moment


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass(frozen=True)
class Firm:
    id: int
    client_ids: list[int]


def make_firm(sessions: SessionFactory, clients: int = 3, name: str | None = None) -> Firm:
    with unit_of_work(sessions) as session:
        firm_id = add_firm(session, name)
        return Firm(firm_id, add_clients(session, firm_id, clients))


def schedule(
    sessions: SessionFactory,
    firm: Firm,
    clock: Clock,
    *,
    name: str = "nightly",
    cron: str = "0 2 * * *",
    time_zone: str | None = None,
    client_filter: Mapping[str, Any] | None = None,
    modules: str | list[str] = "all",
    priority: int | None = None,
) -> ScheduleView:
    spec = schedule_spec(
        name=name,
        cron=cron,
        time_zone=time_zone,
        client_filter=client_filter,
        modules=modules,
        priority=priority,
    )
    with unit_of_work(sessions) as session:
        return add_schedule(session, firm.id, spec, created_by="test", now=clock())


def fire(sessions: SessionFactory, clock: Clock, grace: timedelta = GRACE) -> FireReport:
    return fire_due_schedules(sessions, clock(), grace=grace)


def view(sessions: SessionFactory, firm: Firm, schedule_id: int) -> ScheduleView:
    with unit_of_work(sessions) as session:
        return get_schedule(session, firm.id, schedule_id)


def fires(sessions: SessionFactory, schedule_id: int) -> list[ScheduleFire]:
    with unit_of_work(sessions) as session:
        return list(
            session.scalars(
                sa.select(ScheduleFire)
                .where(ScheduleFire.schedule_id == schedule_id)
                .order_by(ScheduleFire.id)
            )
        )


def runs(sessions: SessionFactory, firm: Firm) -> list[Run]:
    with unit_of_work(sessions) as session:
        return list(session.scalars(sa.select(Run).where(Run.firm_id == firm.id).order_by(Run.id)))


def end_run(sessions: SessionFactory, firm: Firm, run_id: int, now: datetime) -> None:
    """Finish a run the quick way: cancel it (its pending items end at once)."""
    with unit_of_work(sessions) as session:
        cancel_run(session, firm.id, run_id, now)
        assert session.get(Run, run_id, populate_existing=True).completed_at is not None  # type: ignore[union-attr]
