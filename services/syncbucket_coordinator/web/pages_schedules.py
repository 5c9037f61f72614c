"""Schedules: the firm's periodic syncs -- list (next fire, the last fires and why one was
skipped), add, pause, resume, remove.

Reads and writes go through :mod:`syncbucket.schedules`, the library the API and the CLI
call, so a schedule is accepted or refused the same way everywhere; a refusal comes back
next to the control it is about. Everyone of the firm may read; changing a schedule
starts syncs on its own, so it needs the operator's permission, like Start Sync.
Pause, resume and remove are plain forms that htmx posts and swaps in place
(``#schedules``); without JavaScript they post and the page is drawn again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.clientmaster.filters import ClientFilter
from syncbucket.db.schedules import DEFAULT_TIME_ZONE
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.schedules.errors import InvalidSchedule, ScheduleNotFound
from syncbucket.schedules.firing import span_words
from syncbucket.schedules.manage import (
    add_schedule,
    pause_schedule,
    remove_schedule,
    resume_schedule,
)
from syncbucket.schedules.spec import ALL, MAX_PRIORITY, ScheduleSpec, schedule_spec
from syncbucket.schedules.views import list_schedules, owned_schedule
from syncbucket_coordinator.schemas_in import MAX_ID
from syncbucket_coordinator.web.forms import (
    FILTER_FIELDS,
    MODULE_FIELD,
    FormProblem,
    client_filter,
    filter_or_default,
    text,
)
from syncbucket_coordinator.web.identity import CheckedForm, Operator, Reader, Web
from syncbucket_coordinator.web.pages import show
from syncbucket_coordinator.web.wording import FIRE_OUTCOME_MARKS, FIRE_OUTCOME_WORDS

router = APIRouter(include_in_schema=False)
ScheduleId = Annotated[int, Path(ge=1, le=MAX_ID)]
FIRES_SHOWN = 3
# The add form's own fields (the filter's travel under FILTER_FIELDS' names).
FORM_FIELDS = ("name", "cron", "time_zone", "priority", "clients")
ACTIONS = {"pause": "paused", "resume": "resumed", "remove": "removed"}


def _page(
    request: Request,
    context: Web,
    user: SignedInUser,
    status: int = 200,
    *,
    chosen: ClientFilter | None = None,
    **values: Any,
) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        schedules = list_schedules(session, user.firm_id)
    values.setdefault("form", {})
    values.setdefault("ticked", set(ModuleKey))  # a new schedule: all modules
    return show(
        request,
        "schedules.html",
        user=user,
        area="schedules",
        title="Schedules",
        schedules=schedules,
        chosen=chosen or ClientFilter(),
        default_zone=DEFAULT_TIME_ZONE,
        page_zone=context.clock.zone.key,
        outcome_words=FIRE_OUTCOME_WORDS,
        outcome_marks=FIRE_OUTCOME_MARKS,
        fires_shown=FIRES_SHOWN,
        max_priority=MAX_PRIORITY,
        grace=span_words(timedelta(seconds=context.settings.schedule_misfire_grace_seconds)),
        status=status,
        **values,
    )


@router.get("/schedules", response_class=HTMLResponse)
def schedules_page(request: Request, context: Web, user: Reader) -> HTMLResponse:
    """The list and the add form; a Client Master filter in the query (``Schedule this
    filter``) comes pre-filled, with "clients matching this filter" chosen."""
    chosen, problem = filter_or_default(request.query_params)
    form = {"clients": "filter"} if not chosen.is_empty() else {}
    return _page(request, context, user, chosen=chosen, filter_problem=problem, form=form)


@router.post("/schedules", response_class=HTMLResponse)
def add(request: Request, context: Web, user: Operator, form: CheckedForm) -> HTMLResponse:
    kept = {name: text(form, name) for name in FORM_FIELDS}
    ticked = _ticked(form)
    try:
        spec = _spec(form)
        with unit_of_work(context.sessions) as session:
            made = add_schedule(
                session, user.firm_id, spec, created_by=user.requested_by, now=context.now()
            )
    except (FormProblem, InvalidSchedule) as exc:
        chosen, _ignored = filter_or_default(form)
        problem, filter_problem = _where(exc)
        return _page(
            request,
            context,
            user,
            422,
            chosen=chosen,
            form=kept,
            ticked=ticked,
            problem=problem,
            filter_problem=filter_problem,
        )
    first = context.clock.when(made.next_fire_at)
    return _page(request, context, user, done=f"Schedule “{made.name}” added: first sync {first}.")


@router.post("/schedules/{schedule_id}/{action}", response_class=HTMLResponse)
def change(
    request: Request,
    context: Web,
    user: Operator,
    _form: CheckedForm,
    schedule_id: ScheduleId,
    action: str,
) -> HTMLResponse:
    # htmx swaps only 2xx answers: it is told the problem with a 200, a browser with 404.
    missing = 200 if request.headers.get("HX-Request") else 404
    if action not in ACTIONS:
        return _page(request, context, user, missing, action_problem="There is no such action.")
    try:
        with unit_of_work(context.sessions) as session:
            name = owned_schedule(session, user.firm_id, schedule_id).name
            if action == "pause":
                pause_schedule(session, user.firm_id, schedule_id, context.now())
            elif action == "resume":
                resume_schedule(session, user.firm_id, schedule_id, context.now())
            else:
                remove_schedule(session, user.firm_id, schedule_id)
    except ScheduleNotFound:
        problem = "No such schedule: it may have been removed meanwhile."
        return _page(request, context, user, missing, action_problem=problem)
    except InvalidSchedule as exc:
        return _page(request, context, user, 422, action_problem=str(exc))
    return _page(request, context, user, done=f"Schedule “{name}” {ACTIONS[action]}.")


def _spec(form: FormData) -> ScheduleSpec:
    """The add form as a schedule; the library validates (``InvalidSchedule``)."""
    by_filter = text(form, "clients") == "filter"
    chosen = client_filter(form) if by_filter else None
    modules: str | list[str] = ALL if text(form, "all_modules") == "1" else _module_values(form)
    if not modules:
        raise FormProblem("modules", "Tick at least one module, or All modules.")
    return schedule_spec(
        name=text(form, "name"),
        cron=text(form, "cron"),
        time_zone=text(form, "time_zone").strip() or DEFAULT_TIME_ZONE,
        client_filter=chosen,
        modules=modules,
        priority=_priority(text(form, "priority")),
    )


def _module_values(form: FormData) -> list[str]:
    return [value for value in form.getlist(MODULE_FIELD) if isinstance(value, str)]


def _ticked(form: FormData) -> set[ModuleKey]:
    if text(form, "all_modules") == "1":
        return set(ModuleKey)
    return {key for key in ModuleKey if key.value in _module_values(form)}


def _priority(value: str) -> int | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    if not cleaned.isdigit() or len(cleaned) > 3:
        raise FormProblem("priority", f"expected a whole number 0..{MAX_PRIORITY}")
    return int(cleaned)


def _where(exc: FormProblem | InvalidSchedule) -> tuple[FormProblem | None, FormProblem | None]:
    """(a problem of the schedule's own fields, a problem of a filter field)."""
    field = exc.field.removeprefix("filter.")
    if field in FILTER_FIELDS:
        return None, FormProblem(field, exc.message)
    if field == MODULE_FIELD:
        field = "modules"
    return FormProblem(field, exc.message[:1].upper() + exc.message[1:]), None
