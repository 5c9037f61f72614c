"""``/schedules``: the firm's periodic syncs -- add, list, pause, resume, remove, fires.

The token's firm owns everything here, as for runs: an API token acts for the whole
firm (there are no roles on the API), and another firm's schedule answers 404 like one
that does not exist. The leader coordinator fires the schedules
(:func:`syncbucket.schedules.firing.fire_due_schedules`); these routes only change them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from syncbucket.db.session import unit_of_work
from syncbucket.schedules.manage import (
    add_schedule,
    pause_schedule,
    remove_schedule,
    resume_schedule,
)
from syncbucket.schedules.views import (
    MAX_FIRES_PAGE,
    FirePage,
    ScheduleList,
    ScheduleView,
    fire_history,
    get_schedule,
    list_schedules,
)
from syncbucket_coordinator.auth import Firm, Root
from syncbucket_coordinator.schemas import ERROR_RESPONSES, ErrorOut, Responses
from syncbucket_coordinator.schemas_in import MAX_ID
from syncbucket_coordinator.schemas_schedules import CreateScheduleRequest

router = APIRouter(prefix="/schedules", tags=["schedules"], responses=ERROR_RESPONSES)

ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID, description="the schedule's id")]
NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "no such schedule for this firm"}}


@router.get("", summary="List the firm's schedules")
def get_schedules(firm: Firm, root: Root) -> ScheduleList:
    """Each with its next instant (UTC and on its own clock) and its last five fires."""
    with unit_of_work(root.sessions) as session:
        return ScheduleList(schedules=list_schedules(session, firm.id))


@router.post(
    "",
    status_code=201,
    summary="Add a schedule",
    responses={409: {"model": ErrorOut, "description": "the firm has a schedule of that name"}},
)
def post_schedule(
    body: CreateScheduleRequest, firm: Firm, root: Root, response: Response
) -> ScheduleView:
    """Store the schedule; it first fires at the first instant of ``cron`` after now.

    422 names a cron expression that is not five-field cron (or never fires), an unknown
    time zone, an unknown module or filter field; 409 when the name is taken.
    """
    spec = body.spec()
    with unit_of_work(root.sessions) as session:
        made = add_schedule(
            session,
            firm.id,
            spec,
            created_by=firm.requested_by,
            now=root.clock(),
            active=body.active,
        )
    response.headers["Location"] = f"/api/v1/schedules/{made.id}"
    return made


@router.get("/{schedule_id}", summary="A schedule", responses=NOT_FOUND)
def get_one(schedule_id: ScheduleId, firm: Firm, root: Root) -> ScheduleView:
    with unit_of_work(root.sessions) as session:
        return get_schedule(session, firm.id, schedule_id)


@router.delete(
    "/{schedule_id}",
    status_code=204,
    summary="Remove a schedule",
    responses=NOT_FOUND,
    response_class=Response,
)
def delete_one(schedule_id: ScheduleId, firm: Firm, root: Root) -> Response:
    """The schedule and its fire history go; the runs it started stay in the history."""
    with unit_of_work(root.sessions) as session:
        remove_schedule(session, firm.id, schedule_id)
    return Response(status_code=204)


@router.post("/{schedule_id}/pause", summary="Pause a schedule", responses=NOT_FOUND)
def post_pause(schedule_id: ScheduleId, firm: Firm, root: Root) -> ScheduleView:
    """No fire until resumed (a run already started goes on). Pausing twice is harmless."""
    with unit_of_work(root.sessions) as session:
        return pause_schedule(session, firm.id, schedule_id, root.clock())


@router.post("/{schedule_id}/resume", summary="Resume a paused schedule", responses=NOT_FOUND)
def post_resume(schedule_id: ScheduleId, firm: Firm, root: Root) -> ScheduleView:
    """Fires again from the next instant after now: instants passed while paused are
    neither run nor counted as misfires."""
    with unit_of_work(root.sessions) as session:
        return resume_schedule(session, firm.id, schedule_id, root.clock())


@router.get("/{schedule_id}/fires", summary="A schedule's fires, newest first", responses=NOT_FOUND)
def get_fires(
    schedule_id: ScheduleId,
    firm: Firm,
    root: Root,
    limit: Annotated[int, Query(ge=1, le=MAX_FIRES_PAGE)] = 50,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="from next_before_id")
    ] = None,
) -> FirePage:
    """What each due instant did: ``started`` (with its run), ``skipped_running``,
    ``skipped_misfire`` or ``refused`` (with the reason)."""
    with unit_of_work(root.sessions) as session:
        return fire_history(session, firm.id, schedule_id, limit=limit, before_id=before_id)
