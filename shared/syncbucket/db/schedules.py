"""Tables ``schedules`` (periodic syncs of a firm) and ``schedule_fires`` (what each fire did).

A schedule is a cron expression read in its own time zone, a client selection (all, or a
Client Master filter) and modules. ``next_fire_at`` (UTC) is the next instant it is due;
``schedule_fires`` has one row per (schedule, fire time) -- the unique key is what makes
a fire start at most one run whatever the number of coordinators -- saying whether it
started a run, or why it was skipped.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, BigId, JsonDoc, str_enum, utcnow

DEFAULT_TIME_ZONE = "Asia/Kolkata"


class FireOutcome(StrEnum):
    STARTED = "started"  # a run was created (run_id)
    SKIPPED_RUNNING = "skipped_running"  # the schedule's previous run had not ended
    SKIPPED_MISFIRE = "skipped_misfire"  # missed by more than the grace period
    REFUSED = "refused"  # the run could not be created (e.g. no client matched)


class Schedule(Base):
    __tablename__ = "schedules"
    __table_args__ = (
        sa.UniqueConstraint("firm_id", "name", name="uq_schedules_firm_id_name"),
        sa.Index("ix_schedules_active_next_fire_at", "active", "next_fire_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    cron: Mapped[str] = mapped_column(sa.String(100))
    time_zone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_TIME_ZONE)
    # {"kind": "all"} or {"kind": "filter", "filter": {...}} (Client Master filter fields)
    selection: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    modules: Mapped[list[str]] = mapped_column(JsonDoc)
    priority: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_by: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    next_fire_at: Mapped[datetime | None]  # None while paused
    last_fire_at: Mapped[datetime | None]
    last_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"Schedule(id={self.id!r}, firm_id={self.firm_id!r}, cron={self.cron!r})"


class ScheduleFire(Base):
    __tablename__ = "schedule_fires"
    __table_args__ = (
        sa.UniqueConstraint(
            "schedule_id", "fire_time", name="uq_schedule_fires_schedule_id_fire_time"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(sa.ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_time: Mapped[datetime]  # the instant the cron expression named (UTC)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    outcome: Mapped[FireOutcome] = mapped_column(str_enum(FireOutcome, "fire_outcome"))
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"ScheduleFire(schedule_id={self.schedule_id!r}, outcome={self.outcome!r})"
