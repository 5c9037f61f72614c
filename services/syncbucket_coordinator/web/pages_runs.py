"""A run's page (live progress, summary, exception report), its stream, and the history.

Progress reaches the browser as Server-Sent Events from the shared
:class:`~syncbucket_coordinator.web.progress.ProgressHub` (one computation per tick for
every watcher); ``/runs/{id}/progress`` serves the same fragment to browsers whose
network blocks SSE (``app.js`` falls back to polling it). Cancel, re-sync and the CSV
are the library's ``cancel_run``, ``retry_failed`` and ``csv_lines``, as for the API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sse_starlette import EventSourceResponse

from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.pipeline.errors import RunRefused
from syncbucket.pipeline.queries import exception_rows, failed_counts, list_runs, run_summary
from syncbucket.pipeline.report_csv import csv_lines
from syncbucket.pipeline.run_details import records_by_module, rejected_logins, retry_runs
from syncbucket.pipeline.runs import cancel_run, retry_failed
from syncbucket.pipeline.views import RunSummary
from syncbucket_coordinator.schemas_in import MAX_ID
from syncbucket_coordinator.web.errors import PageError
from syncbucket_coordinator.web.identity import (
    SESSION_COOKIE,
    CheckedForm,
    Operator,
    Reader,
    Web,
    still_signed_in,
)
from syncbucket_coordinator.web.pages import show
from syncbucket_coordinator.web.wording import RUN_STATUS_WORDS

router = APIRouter(include_in_schema=False)
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
EXCEPTIONS_PER_PAGE = 100
RECHECK_SESSION_SECONDS = 30.0
HISTORY_PAGE = 25


@router.get("/runs", response_class=HTMLResponse)
def history(
    request: Request,
    context: Web,
    user: Reader,
    before: int | None = Query(default=None, ge=1, le=MAX_ID),
) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        page = list_runs(session, user.firm_id, limit=HISTORY_PAGE, before_id=before)
        children = retry_runs(session, user.firm_id, [run.run_id for run in page.runs])
    return show(
        request,
        "runs.html",
        user=user,
        area="runs",
        title="Runs",
        page=page,
        children=children,
        first_page=before is None,
    )


def _exception_filters(request: Request) -> tuple[str | None, str | None, int]:
    code = request.query_params.get("code") or None
    module = request.query_params.get("module") or None
    if module is not None and module not in ModuleKey._value2member_map_:
        module = None
    page_text = request.query_params.get("page", "1")
    page = max(1, min(int(page_text), 100_000)) if page_text.isdigit() else 1
    return (code[:64] if code else None), module, page


def _after(
    request: Request,
    context: Web,
    user: SignedInUser,
    run_id: int,
    summary: RunSummary | None = None,
) -> dict[str, Any]:
    """What the page shows below the progress: controls while running, reports after.

    ``summary``: the run as the page's progress frame just read it (one GROUP BY less).
    """
    code, module, page = _exception_filters(request)
    with unit_of_work(context.sessions) as session:
        summary = summary or run_summary(session, user.firm_id, run_id)
        children = retry_runs(session, user.firm_id, [run_id]).get(run_id, [])
        values: dict[str, Any] = {"summary": summary, "retries": children}
        if summary.completed_at is not None:
            values.update(
                records=records_by_module(session, user.firm_id, run_id),
                codes=failed_counts(session, user.firm_id, run_id),
                rows=exception_rows(
                    session,
                    user.firm_id,
                    run_id,
                    error_code=code,
                    module=module,
                    limit=EXCEPTIONS_PER_PAGE + 1,
                    offset=(page - 1) * EXCEPTIONS_PER_PAGE,
                ),
                logins=rejected_logins(session, user.firm_id, run_id),
            )
    values.update(
        code=code,
        module=module,
        page=page,
        per_page=EXCEPTIONS_PER_PAGE,
        filters={k: v for k, v in {"code": code, "module": module}.items() if v},
    )
    return values


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, context: Web, user: Reader, run_id: RunId) -> HTMLResponse:
    frame = context.hub.current(user.firm_id, run_id, max_age=0)
    after = _after(request, context, user, run_id, frame.progress.summary)
    return show(
        request,
        "run.html",
        user=user,
        area="runs",
        title=f"Run {run_id}",
        frame=frame,
        status_words=RUN_STATUS_WORDS,
        started=request.query_params.get("started") == "1",
        **after,
    )


@router.get("/runs/{run_id}/after", response_class=HTMLResponse)
def after_fragment(request: Request, context: Web, user: Reader, run_id: RunId) -> HTMLResponse:
    return show(request, "_after.html", user=user, **_after(request, context, user, run_id))


@router.get("/runs/{run_id}/progress", response_class=HTMLResponse)
def progress_fragment(request: Request, context: Web, user: Reader, run_id: RunId) -> HTMLResponse:
    frame = context.hub.current(user.firm_id, run_id)
    return HTMLResponse(frame.html, headers={"Cache-Control": "no-store"})


@router.get("/runs/{run_id}/events")
async def progress_events(
    request: Request, context: Web, user: Reader, run_id: RunId
) -> EventSourceResponse:
    frames = context.hub.frames(user.firm_id, run_id)
    first = await anext(frames)  # a run of another firm fails here: 404 before streaming
    cookie = request.cookies.get(SESSION_COOKIE, "")

    async def stream() -> AsyncIterator[dict[str, str]]:
        yield {"event": "progress", "data": first.html}
        if first.progress.finished:
            yield {"event": "done", "data": ""}
            return
        checked = time.monotonic()
        async for frame in frames:
            if time.monotonic() - checked > RECHECK_SESSION_SECONDS:
                # Signed out, disabled or expired meanwhile: the stream stops too.
                if not await asyncio.to_thread(still_signed_in, context, cookie):
                    return
                checked = time.monotonic()
            yield {"event": "progress", "data": frame.html}
            if frame.progress.finished:
                yield {"event": "done", "data": ""}
                return

    return EventSourceResponse(
        stream(), ping=15, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


@router.get("/runs/{run_id}/report.csv")
def report_csv(request: Request, context: Web, user: Reader, run_id: RunId) -> Response:
    code, module, _page = _exception_filters(request)
    with unit_of_work(context.sessions) as session:
        rows = exception_rows(session, user.firm_id, run_id, error_code=code, module=module)
    return StreamingResponse(
        csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="run-{run_id}-exceptions.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/runs/{run_id}/cancel")
def cancel(context: Web, user: Operator, _form: CheckedForm, run_id: RunId) -> Response:
    with unit_of_work(context.sessions) as session:
        ended = run_summary(session, user.firm_id, run_id).completed_at is not None
        cancel_run(session, user.firm_id, run_id, context.now())
    notice = "" if ended else "?notice=cancel-requested"  # a finished run has nothing to cancel
    return RedirectResponse(f"/runs/{run_id}{notice}", status_code=303)


@router.post("/runs/{run_id}/retry-failed")
def resync_failed(context: Web, user: Operator, _form: CheckedForm, run_id: RunId) -> Response:
    try:
        with unit_of_work(context.sessions) as session:
            created = retry_failed(session, user.firm_id, run_id, user.requested_by, context.now())
    except RunRefused as exc:
        raise PageError(
            409, "Cannot re-sync", exc.message[:1].upper() + exc.message[1:] + "."
        ) from None
    return RedirectResponse(f"/runs/{created.run_id}?started=1", status_code=303)
