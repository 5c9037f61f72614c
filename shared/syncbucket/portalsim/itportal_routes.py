"""IT portal (``/itportal``): the login router, payment history and e-Proceedings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from syncbucket.portalsim import itportal_auth
from syncbucket.portalsim.data import paginate, rows
from syncbucket.portalsim.data.dataset import Row
from syncbucket.portalsim.data.itportal_data import NOTICES, TAB, TABS, listed_proceeding
from syncbucket.portalsim.deps import DEFAULT_PAGE_SIZE, PageNo, PageSize, StateDep
from syncbucket.portalsim.itportal_auth import SessionUser
from syncbucket.portalsim.replies import it_error, page_problem
from syncbucket.portalsim.state import SimulatorState

PORTAL = "itportal"
data = APIRouter(prefix="/iec")
router = APIRouter(prefix="/itportal")
router.include_router(itportal_auth.router)


def _rows(state: SimulatorState, dataset: str, tan: str) -> tuple[Row, ...]:
    settings = state.faults(PORTAL)
    return rows(dataset, tan, settings.data_epoch, settings.change_ratio)


def _page(all_rows: list[Row] | tuple[Row, ...], page_no: int, page_size: int) -> dict[str, Any]:
    problem = page_problem(page_no, page_size)
    if problem:
        raise it_error(400, "INVALID_REQUEST", problem)
    return paginate(all_rows, page_no, page_size)


@data.get("/paymentHistory")
async def payment_history(
    user: SessionUser, state: StateDep, page_no: PageNo = 1, page_size: PageSize = DEFAULT_PAGE_SIZE
) -> dict[str, Any]:
    return _page(_rows(state, "fetch_challans", user), page_no, page_size)


@data.get("/eproceedings")
async def eproceedings(
    user: SessionUser,
    state: StateDep,
    tab: Annotated[str, Query()] = "FYA",
    page_no: PageNo = 1,
    page_size: PageSize = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    if tab not in TABS:
        raise it_error(400, "INVALID_REQUEST", f"tab must be one of {', '.join(TABS)}")
    chosen = [listed_proceeding(r) for r in _rows(state, "eproceedings", user) if r[TAB] == tab]
    return _page(chosen, page_no, page_size)


@data.get("/eproceedings/{proceeding_req_id}/notices")
async def notices(proceeding_req_id: str, user: SessionUser, state: StateDep) -> list[Row]:
    for row in _rows(state, "eproceedings", user):
        if row["proceedingReqId"] == proceeding_req_id:
            return list(row[NOTICES])
    raise it_error(404, "NOT_FOUND", "No proceeding with this id for the logged-in user")


router.include_router(data)
