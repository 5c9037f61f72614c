"""``/runs``: start, list, follow, report on, retry and cancel the firm's runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from syncbucket.db.session import unit_of_work
from syncbucket.domain.runs import ItemStatus, RunSource
from syncbucket.pipeline.queries import exception_rows, list_items, list_runs, run_summary
from syncbucket.pipeline.report_csv import csv_lines
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import cancel_run, create_run, retry_failed
from syncbucket_coordinator.auth import Firm, Root
from syncbucket_coordinator.errors import ApiError
from syncbucket_coordinator.schemas import (
    ERROR_RESPONSES,
    NOT_FOUND,
    ErrorOut,
    ItemPage,
    RunPage,
    RunSummary,
)
from syncbucket_coordinator.schemas_in import (
    MAX_ID,
    RESERVED_KEY_PREFIX,
    CreateRunRequest,
)

router = APIRouter(prefix="/runs", tags=["runs"], responses=ERROR_RESPONSES)

MAX_ITEM_ID = 2**63 - 1  # items.id is BIGINT (a run id is int4: MAX_ID)
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="the run's id")]
IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="same as the body"),
]


def _location(response: Response, run_id: int) -> None:
    response.headers["Location"] = f"/api/v1/runs/{run_id}"


def _one_key(in_body: str | None, in_header: str | None) -> str | None:
    if in_body is not None and in_header is not None and in_body != in_header:
        raise ApiError(
            422,
            "invalid_request",
            "idempotency_key: the body and the Idempotency-Key header disagree",
        )
    if in_header is not None and in_header.startswith(RESERVED_KEY_PREFIX):
        raise ApiError(
            422,
            "invalid_request",
            f'Idempotency-Key: keys starting with "{RESERVED_KEY_PREFIX}" are reserved for retries',
        )
    return in_body if in_body is not None else in_header


@router.post(
    "",
    status_code=201,
    summary="Start a run",
    responses={200: {"model": RunSummary, "description": "the idempotency key's existing run"}},
)
def post_run(
    body: CreateRunRequest,
    firm: Firm,
    root: Root,
    response: Response,
    idempotency_key: IdempotencyHeader = None,
) -> RunSummary:
    """Create a run for the selected clients x modules; items are dispatched fairly.

    201 with the new run, or 200 with the run an earlier request with the same
    idempotency key created. 422 names an unknown module, a bad or unknown TAN, or a
    selection with no active client.
    """
    request = RunRequest(
        firm_id=firm.id,
        modules=body.module_keys(),
        client_ids=body.client_ids(),
        tans=body.tans(),
        client_filter=body.client_filter(),
        excluded_client_ids=body.excluded_ids(),
        source=RunSource.API,
        idempotency_key=_one_key(body.idempotency_key, idempotency_key),
        priority=body.priority,
        requested_by=firm.requested_by,
    )
    with unit_of_work(root.sessions) as session:
        created = create_run(session, request, now=root.clock())
        summary = run_summary(session, firm.id, created.run_id)
    response.status_code = 201 if created.created else 200
    _location(response, created.run_id)
    return summary


@router.get("", summary="List the firm's runs, newest first")
def get_runs(
    firm: Firm,
    root: Root,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="from next_before_id")
    ] = None,
) -> RunPage:
    with unit_of_work(root.sessions) as session:
        return list_runs(session, firm.id, limit=limit, before_id=before_id)


@router.get("/{run_id}", summary="A run's progress and summary", responses=NOT_FOUND)
def get_run(run_id: RunId, firm: Firm, root: Root) -> RunSummary:
    """Status, items per status, per module and per portal, records new/changed, times."""
    with unit_of_work(root.sessions) as session:
        return run_summary(session, firm.id, run_id)


@router.get("/{run_id}/items", summary="A run's items, paginated", responses=NOT_FOUND)
def get_items(
    run_id: RunId,
    firm: Firm,
    root: Root,
    status: Annotated[ItemStatus | None, Query(description="only items in this status")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ITEM_ID, description="from next_after_id")
    ] = None,
) -> ItemPage:
    with unit_of_work(root.sessions) as session:
        return list_items(session, firm.id, run_id, status=status, limit=limit, after_id=after_id)


@router.get(
    "/{run_id}/report.csv",
    summary="The run's exception report (failed items) as CSV",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "one row per failed item"},
        **NOT_FOUND,
    },
)
def get_report(run_id: RunId, firm: Firm, root: Root) -> StreamingResponse:
    """Columns: client, tan, module, portal, error_code, message, attempts, finished_at."""
    with unit_of_work(root.sessions) as session:  # 404 before the first byte; no
        rows = exception_rows(session, firm.id, run_id)  # transaction held while sending
    return StreamingResponse(
        csv_lines(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="run-{run_id}-exceptions.csv"'},
    )


@router.post(
    "/{run_id}/retry-failed",
    status_code=201,
    summary="Re-sync the failed items",
    responses={
        200: {"model": RunSummary, "description": "the retry run made earlier for this run"},
        409: {"model": ErrorOut, "description": "the run is still in progress"},
        **NOT_FOUND,
    },
)
def post_retry_failed(run_id: RunId, firm: Firm, root: Root, response: Response) -> RunSummary:
    """A new run (source ``retry``) of exactly the parent's failed items.

    Once per parent: asking again answers 200 with the same retry run. 409 while the
    parent is still in progress; 422 when none of its items failed.
    """
    with unit_of_work(root.sessions) as session:
        created = retry_failed(session, firm.id, run_id, firm.requested_by, root.clock())
        summary = run_summary(session, firm.id, created.run_id)
    response.status_code = 201 if created.created else 200
    _location(response, created.run_id)
    return summary


@router.post("/{run_id}/cancel", status_code=202, summary="Cancel a run", responses=NOT_FOUND)
def post_cancel(run_id: RunId, firm: Firm, root: Root) -> RunSummary:
    """Stop releasing its items and cancel the pending ones; items already with a worker
    finish. Cancelling a finished run changes nothing."""
    with unit_of_work(root.sessions) as session:
        cancel_run(session, firm.id, run_id, root.clock())
        return run_summary(session, firm.id, run_id)
