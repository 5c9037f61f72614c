"""FastAPI dependencies shared by the routes: the simulator state and paging parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from syncbucket.portalsim.state import SimulatorState

DEFAULT_PAGE_SIZE = 50


def get_state(request: Request) -> SimulatorState:
    state = request.app.state.sim
    assert isinstance(state, SimulatorState)
    return state


def bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


StateDep = Annotated[SimulatorState, Depends(get_state)]
PageNo = Annotated[int, Query(alias="pageNo")]
PageSize = Annotated[int, Query(alias="pageSize")]
