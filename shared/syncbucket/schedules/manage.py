"""Add, pause, resume and remove a firm's schedules -- inside the caller's transaction.

Every statement names the firm, so another firm's schedule is "not found" like a missing
one. Pausing clears ``next_fire_at``; resuming computes it afresh from the moment of
resuming: instants that passed while paused were never due, so they are neither run nor
recorded as misfires (``docs/schedules.md``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from syncbucket.db.schedules import Schedule, ScheduleFire
from syncbucket.schedules.cron import Recurrence
from syncbucket.schedules.errors import ScheduleNameTaken
from syncbucket.schedules.spec import ScheduleSpec
from syncbucket.schedules.views import ScheduleView, get_schedule, owned_schedule

MAX_CREATED_BY = 254  # schedules.created_by is VARCHAR(254)


def add_schedule(
    session: Session,
    firm_id: int,
    spec: ScheduleSpec,
    *,
    created_by: str | None,
    now: datetime,
    active: bool = True,
) -> ScheduleView:
    """Store a validated schedule; its first fire is the first instant after ``now``.

    :class:`ScheduleNameTaken` when the firm already has one of that name.
    """
    taken = session.scalar(
        sa.select(Schedule.id).where(Schedule.firm_id == firm_id, Schedule.name == spec.name)
    )
    if taken is not None:
        raise ScheduleNameTaken(spec.name)
    recurrence = spec.recurrence
    row = Schedule(
        firm_id=firm_id,
        name=spec.name,
        cron=recurrence.cron,
        time_zone=recurrence.time_zone,
        selection=spec.selection.to_document(),
        modules=spec.stored_modules(),
        priority=spec.priority,
        active=active,
        created_by=created_by[:MAX_CREATED_BY] if created_by else None,
        created_at=now,
        updated_at=now,
        next_fire_at=recurrence.next_after(now) if active else None,
    )
    try:
        # A SAVEPOINT: a concurrent add of the same name loses here, not the caller's work.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise ScheduleNameTaken(spec.name) from None
    return get_schedule(session, firm_id, row.id)


def pause_schedule(session: Session, firm_id: int, schedule_id: int, now: datetime) -> ScheduleView:
    """No more fires until resumed; a run already started goes on. Idempotent."""
    row = owned_schedule(session, firm_id, schedule_id, for_update=True)
    if row.active:
        row.active = False
        row.next_fire_at = None
        row.updated_at = now
        session.flush()
    return get_schedule(session, firm_id, schedule_id)


def resume_schedule(
    session: Session, firm_id: int, schedule_id: int, now: datetime
) -> ScheduleView:
    """Fire again from the next instant after ``now``. Idempotent."""
    row = owned_schedule(session, firm_id, schedule_id, for_update=True)
    if not row.active:
        recurrence = Recurrence.parse(row.cron, row.time_zone)
        row.active = True
        row.next_fire_at = recurrence.next_after(now)
        row.updated_at = now
        session.flush()
    return get_schedule(session, firm_id, schedule_id)


def remove_schedule(session: Session, firm_id: int, schedule_id: int) -> None:
    """Delete the schedule and its fire history; the runs it started stay in the history."""
    owned_schedule(session, firm_id, schedule_id, for_update=True)
    # Explicit rather than trusting ON DELETE CASCADE: a SQLite connection opened
    # without foreign keys enforced would leave the fires behind.
    session.execute(sa.delete(ScheduleFire).where(ScheduleFire.schedule_id == schedule_id))
    session.execute(
        sa.delete(Schedule).where(Schedule.id == schedule_id, Schedule.firm_id == firm_id)
    )
