"""The read side of schedules: frozen pydantic models, JSON-ready with ``to_dict()``.

Pydantic, like :mod:`syncbucket.pipeline.views`, so the API serves them as its response
models and the CLI's ``--json`` prints the very same documents. Every query is scoped
to the firm: another firm's schedule is :class:`ScheduleNotFound`, like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from syncbucket.db.schedules import Schedule, ScheduleFire
from syncbucket.domain.runs import RunSource
from syncbucket.pipeline.requests import DEFAULT_PRIORITY
from syncbucket.schedules.cron import parse_time_zone
from syncbucket.schedules.errors import InvalidSchedule, ScheduleNotFound
from syncbucket.schedules.spec import ALL, Selection

RECENT_FIRES = 5
MAX_FIRES_PAGE = 200


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe values only (datetimes as ISO strings)."""
        return self.model_dump(mode="json")


class FireView(_View):
    """What one due instant of a schedule did."""

    id: int
    schedule_id: int
    fire_time: datetime = Field(description="the instant the cron expression named (UTC)")
    decided_at: datetime
    outcome: str = Field(
        description="started | skipped_running | skipped_misfire | refused",
        examples=["started"],
    )
    run_id: int | None = Field(description="the run it started (outcome started)")
    reason: str | None = Field(
        description="why it was skipped or refused, in words",
        examples=["run 41 of this schedule has not finished: fires never overlap"],
    )


class ScheduleView(_View):
    """A schedule of the firm, with its next instant and its most recent fires."""

    id: int
    name: str = Field(examples=["nightly challans"])
    cron: str = Field(examples=["0 2 * * *"])
    time_zone: str = Field(examples=["Asia/Kolkata"])
    clients: Literal["all"] | dict[str, Any] = Field(
        description='"all" active clients, or {"filter": {...}}: the active clients a Client '
        "Master filter matches when the schedule fires",
        examples=["all", {"filter": {"failed_last_time": True}}],
    )
    clients_described: str = Field(examples=["active clients matching: failed last time"])
    modules: Literal["all"] | list[str] = Field(examples=["all", ["fetch_challans"]])
    priority: int | None = Field(description="as asked; null = the schedule default")
    effective_priority: int = Field(description="the priority its runs get (default 0)")
    active: bool = Field(description="false while paused")
    next_fire_at: datetime | None = Field(description="UTC; null while paused")
    next_fire_local: str | None = Field(
        description="the same instant on the schedule's own clock (ISO 8601 with offset)",
        examples=["2026-12-03T02:00:00+05:30"],
    )
    last_fire_at: datetime | None = Field(description="the last instant that started a run")
    last_run_id: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    recent_fires: list[FireView] = Field(description=f"the last {RECENT_FIRES}, newest first")

    @property
    def last_fire(self) -> FireView | None:
        return self.recent_fires[0] if self.recent_fires else None


class ScheduleList(_View):
    schedules: list[ScheduleView] = Field(description="the firm's schedules, by name")


class FirePage(_View):
    fires: list[FireView] = Field(description="newest first")
    next_before_id: int | None = Field(description="pass as before_id for the next page")


def list_schedules(session: Session, firm_id: int) -> list[ScheduleView]:
    """The firm's schedules by name, each with its recent fires (two queries in all)."""
    rows = list(
        session.scalars(
            sa.select(Schedule).where(Schedule.firm_id == firm_id).order_by(Schedule.name)
        )
    )
    recent = _recent_fires(session, [row.id for row in rows])
    return [schedule_view(row, recent.get(row.id, [])) for row in rows]


def get_schedule(session: Session, firm_id: int, schedule_id: int) -> ScheduleView:
    row = owned_schedule(session, firm_id, schedule_id)
    return schedule_view(row, _recent_fires(session, [row.id]).get(row.id, []))


def owned_schedule(
    session: Session, firm_id: int, schedule_id: int, *, for_update: bool = False
) -> Schedule:
    """The firm's schedule ``schedule_id`` (locked when asked); another firm's is not found."""
    query = sa.select(Schedule).where(Schedule.id == schedule_id, Schedule.firm_id == firm_id)
    if for_update:
        query = query.with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if row is None:
        raise ScheduleNotFound(schedule_id)
    return row


def schedule_id_named(session: Session, firm_id: int, name: str) -> int:
    """The id of the firm's schedule called ``name`` (the CLI names schedules by name)."""
    cleaned = " ".join(name.split())
    found = session.scalar(
        sa.select(Schedule.id).where(Schedule.firm_id == firm_id, Schedule.name == cleaned)
    )
    if found is None:
        raise ScheduleNotFound(cleaned)
    return int(found)


def fire_history(
    session: Session,
    firm_id: int,
    schedule_id: int,
    *,
    limit: int = 50,
    before_id: int | None = None,
) -> FirePage:
    """The schedule's fires, newest first, ``limit`` at a time (``before_id`` pages on)."""
    owned_schedule(session, firm_id, schedule_id)
    size = max(1, min(limit, MAX_FIRES_PAGE))
    query = sa.select(ScheduleFire).where(ScheduleFire.schedule_id == schedule_id)
    if before_id is not None:
        query = query.where(ScheduleFire.id < before_id)
    rows = list(session.scalars(query.order_by(ScheduleFire.id.desc()).limit(size + 1)))
    shown = rows[:size]
    more = len(rows) > size
    return FirePage(
        fires=[fire_view(row) for row in shown], next_before_id=shown[-1].id if more else None
    )


def _recent_fires(session: Session, schedule_ids: Sequence[int]) -> dict[int, list[FireView]]:
    """The last ``RECENT_FIRES`` of each schedule: one window-function query for all."""
    if not schedule_ids:
        return {}
    rank = (
        sa.func.row_number()
        .over(partition_by=ScheduleFire.schedule_id, order_by=ScheduleFire.id.desc())
        .label("rank")
    )
    ranked = (
        sa.select(ScheduleFire.id, rank).where(ScheduleFire.schedule_id.in_(schedule_ids))
    ).subquery()
    rows = session.scalars(
        sa.select(ScheduleFire)
        .join(ranked, ranked.c.id == ScheduleFire.id)
        .where(ranked.c.rank <= RECENT_FIRES)
        .order_by(ScheduleFire.schedule_id, ScheduleFire.id.desc())
    )
    found: dict[int, list[FireView]] = {}
    for row in rows:
        found.setdefault(row.schedule_id, []).append(fire_view(row))
    return found


def fire_view(row: ScheduleFire) -> FireView:
    return FireView(
        id=row.id,
        schedule_id=row.schedule_id,
        fire_time=row.fire_time,
        decided_at=row.decided_at,
        outcome=str(row.outcome.value),
        run_id=row.run_id,
        reason=row.reason,
    )


def schedule_view(row: Schedule, recent: list[FireView]) -> ScheduleView:
    selection = _selection(row.selection)
    return ScheduleView(
        id=row.id,
        name=row.name,
        cron=row.cron,
        time_zone=row.time_zone,
        clients=_clients(row.selection, selection),
        clients_described=(
            selection.describe() if selection is not None else "a filter this version cannot read"
        ),
        modules=ALL if list(row.modules) == [ALL] else list(row.modules),
        priority=row.priority,
        effective_priority=(
            row.priority if row.priority is not None else DEFAULT_PRIORITY[RunSource.SCHEDULE]
        ),
        active=row.active,
        next_fire_at=row.next_fire_at,
        next_fire_local=_local_iso(row.next_fire_at, row.time_zone),
        last_fire_at=row.last_fire_at,
        last_run_id=row.last_run_id,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        recent_fires=recent,
    )


def _clients(document: dict[str, Any], selection: Selection | None) -> str | dict[str, Any]:
    if selection is None:  # unreadable: shown as stored, never as "all"
        return {"filter": dict(document.get("filter") or {})}
    if selection.client_filter is None:
        return "all"
    return {"filter": selection.client_filter.to_dict()}


def _selection(document: dict[str, Any]) -> Selection | None:
    try:
        return Selection.from_document(document)
    except InvalidSchedule:
        return None  # shown as unreadable; its next fire is refused saying why


def _local_iso(moment: datetime | None, time_zone: str) -> str | None:
    if moment is None:
        return None
    try:
        zone = parse_time_zone(time_zone)
    except InvalidSchedule:
        return None
    return moment.astimezone(zone).isoformat(timespec="minutes")
