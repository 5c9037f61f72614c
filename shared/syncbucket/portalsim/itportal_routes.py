"""IT portal (``/itportal``): the login router, payment history and e-Proceedings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query

from syncbucket.portalsim import itportal_auth
from syncbucket.portalsim.data.dataset import Row
from syncbucket.portalsim.data.itportal_data import NOTICES, TAB, TABS, listed_proceeding
from syncbucket.portalsim.deps import DEFAULT_PAGE_SIZE, PageNo, PageSize, StateDep
from syncbucket.portalsim.itportal_auth import SessionUser
from syncbucket.portalsim.pages import checked_page, portal_rows
from syncbucket.portalsim.replies import it_error
from syncbucket.portalsim.state import SimulatorState

PORTAL = "itportal"
data = APIRouter(prefix="/iec")
router = APIRouter(prefix="/itportal")
router.include_router(itportal_auth.router)


def _rows(state: SimulatorState, dataset: str, tan: str) -> tuple[Row, ...]:
    return portal_rows(state, PORTAL, dataset, tan)


def _page(all_rows: Sequence[Row], page_no: int, page_size: int) -> dict[str, Any]:
    return checked_page(
        all_rows, page_no, page_size, lambda problem: it_error(400, "INVALID_REQUEST", problem)
    )


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
