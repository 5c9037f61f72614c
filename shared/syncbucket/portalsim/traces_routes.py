"""TRACES (``/traces``): the login router plus the deductor data pages of five modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request

from syncbucket.portalsim import traces_auth
from syncbucket.portalsim.data.dataset import Row
from syncbucket.portalsim.data.traces_ldc import listed, verified
from syncbucket.portalsim.deps import DEFAULT_PAGE_SIZE, PageNo, PageSize, StateDep
from syncbucket.portalsim.pages import checked_page, portal_rows
from syncbucket.portalsim.replies import json_body, text, traces_error
from syncbucket.portalsim.state import SimulatorState
from syncbucket.portalsim.traces_auth import SessionTan

PORTAL = "traces"
data = APIRouter(prefix="/app/srv/deductor")
router = APIRouter(prefix="/traces")
router.include_router(traces_auth.router)


def _rows(state: SimulatorState, dataset: str, tan: str) -> tuple[Row, ...]:
    return portal_rows(state, PORTAL, dataset, tan)


def _page(all_rows: Sequence[Row], page_no: int, page_size: int) -> dict[str, Any]:
    return checked_page(
        all_rows, page_no, page_size, lambda problem: traces_error(400, "INVALID_REQUEST", problem)
    )


@data.get("/statementStatus")
async def statement_status(
    tan: SessionTan, state: StateDep, page_no: PageNo = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    return _page(_rows(state, "return_summary", tan), page_no, page_size)


@data.get("/unconsumedChallans")
async def unconsumed_challans(
    tan: SessionTan, state: StateDep, page_no: PageNo = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    return _page(_rows(state, "unconsumed_challans", tan), page_no, page_size)


@data.get("/raisedRequests")
async def raised_requests(
    tan: SessionTan, state: StateDep, page_no: PageNo = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    return _page(_rows(state, "raised_requests", tan), page_no, page_size)


@data.get("/outstandingDemand")
async def outstanding_demand(tan: SessionTan, state: StateDep) -> dict[str, Any]:
    return {"rows": list(_rows(state, "outstanding_demand", tan))}


@data.get("/ldcList")
async def ldc_list(
    tan: SessionTan, state: StateDep, page_no: PageNo = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    return _page([listed(row) for row in _rows(state, "ldc", tan)], page_no, page_size)


@data.post("/verifyLdc")
async def verify_ldc(request: Request, tan: SessionTan, state: StateDep) -> dict[str, Any]:
    body = await json_body(request)
    wanted = (text(body, "certNo").upper(), text(body, "pan").upper(), text(body, "finYr"))
    if not all(wanted):
        raise traces_error(400, "INVALID_REQUEST", "pan, finYr and certNo are required")
    for row in _rows(state, "ldc", tan):
        if (row["certNo"], row["pan"], row["finYr"]) == wanted:
            result = verified(row)
            if result is not None:
                return result
    raise traces_error(404, "CERT_NOT_FOUND", "No certificate found for the details given")


router.include_router(data)
