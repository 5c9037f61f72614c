"""The Sync Bucket: pick clients (some, or Select All = the whole filter) and modules,
read the estimate, Start Sync.

Select All sends the filter itself (plus the ids unticked after it), never 10,000 ids;
the library resolves it in SQL when the run is created. Every form carries an
idempotency key made when the page was drawn, so a double click, a reload or a re-sent
form makes one run. Refusals come back next to the control they are about.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.clientmaster.directory import count_matching, directory_page
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.estimate import RunEstimate, estimate_run
from syncbucket.pipeline.runs import create_run
from syncbucket_coordinator.web.forms import (
    MODULE_FIELD,
    FormProblem,
    filter_or_default,
    filter_params,
    ids,
    listing,
    query_string,
    run_request,
    text,
)
from syncbucket_coordinator.web.identity import CheckedForm, Operator, Reader, Web
from syncbucket_coordinator.web.pages import show

router = APIRouter(include_in_schema=False)

# Which control a refusal is about: its message is shown next to that control.
MODULE_CODES = frozenset({"no_modules", "unknown_module"})
FIELD_OF = {"client_id": "clients", "exclude_id": "clients", MODULE_FIELD: "module"}


def _bucket(
    request: Request,
    context: Web,
    user: SignedInUser,
    fields: FormData | None = None,
    problem: tuple[str, str] | None = None,
) -> HTMLResponse:
    source = fields if fields is not None else request.query_params
    chosen, filter_problem = filter_or_default(source)
    view = listing(request.query_params)
    now = context.now()
    with unit_of_work(context.sessions) as session:
        page = directory_page(
            session,
            user.firm_id,
            chosen,
            now,
            offset=view.offset,
            limit=view.size,
            sort=view.sort,
            descending=view.descending,
        )
        active = count_matching(session, user.firm_id, chosen, now, active_only=True)
    filter_only = filter_params(source)
    query = {**filter_only, "size": str(view.size), "sort": view.sort.value}
    if fields is not None:
        picked = set(_safe_ids(fields, "client_id"))
        modules = {key for key in ModuleKey if key.value in fields.getlist(MODULE_FIELD)}
        select_all = text(fields, "select_all") == "1"
        key = text(fields, "idempotency_key") or _new_key()
    else:
        picked, modules, select_all, key = set(), set(), False, _new_key()
    return show(
        request,
        "bucket.html",
        user=user,
        area="bucket",
        title="Sync Bucket",
        page=page,
        view=view,
        chosen=chosen,
        filter_problem=filter_problem,
        filter_only=filter_only,
        filter_key=query_string(filter_only),
        query=query,
        active=active,
        picked=picked,
        ticked=modules,
        select_all=select_all,
        idempotency_key=key,
        problem=problem,
        status=422 if problem else 200,
    )


def _new_key() -> str:
    return f"bucket-{uuid.uuid4()}"


def _safe_ids(fields: FormData, name: str) -> list[int]:
    try:
        return ids(fields, name)
    except FormProblem:
        return []


@router.get("/bucket", response_class=HTMLResponse)
def bucket_page(request: Request, context: Web, user: Reader) -> HTMLResponse:
    return _bucket(request, context, user)


def _where(exc: RunRefused | FormProblem) -> tuple[str, str]:
    if isinstance(exc, FormProblem):
        return FIELD_OF.get(exc.field, exc.field), exc.message
    return ("module" if exc.code in MODULE_CODES else "clients"), exc.message[
        :1
    ].upper() + exc.message[1:] + "."


@router.post("/bucket/estimate", response_class=HTMLResponse)
def estimate(request: Request, context: Web, user: Reader, form: CheckedForm) -> HTMLResponse:
    found: RunEstimate | None = None
    problem: tuple[str, str] | None = None
    try:
        wanted = run_request(form, user)
        with unit_of_work(context.sessions) as session:
            found = estimate_run(session, wanted, context.settings, context.now())
    except (FormProblem, RunRefused) as exc:
        problem = _where(exc)
    return show(
        request, "_estimate.html", user=user, estimate=found, problem=problem, portals=Portal
    )


@router.post("/bucket/start")
def start(request: Request, context: Web, user: Operator, form: CheckedForm) -> Response:
    try:
        wanted = run_request(form, user)
        with unit_of_work(context.sessions) as session:
            created = create_run(session, wanted, now=context.now())
    except (FormProblem, RunRefused) as exc:
        return _bucket(request, context, user, form, _where(exc))
    return RedirectResponse(f"/runs/{created.run_id}?started=1", status_code=303)
