"""``/admin``: read and change fault knobs, read counters, reset, move the simulated clock."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from syncbucket.portalsim.deps import StateDep
from syncbucket.portalsim.faults import KNOBS, PORTALS, UnknownKnobError
from syncbucket.portalsim.replies import Reply, json_body

router = APIRouter(prefix="/admin", tags=["admin"])


class ClockAdvance(BaseModel):
    seconds: float = Field(gt=0)


def _portal(portal: str) -> str:
    if portal not in PORTALS:
        raise Reply(
            JSONResponse(
                {"detail": f"unknown portal {portal!r}; known: {', '.join(PORTALS)}"},
                status_code=404,
            )
        )
    return portal


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/faults/{portal}")
async def get_faults(portal: str, state: StateDep) -> dict[str, Any]:
    return state.faults(_portal(portal)).model_dump()


@router.put("/faults/{portal}")
async def put_faults(portal: str, request: Request, state: StateDep) -> dict[str, Any]:
    """Change the knobs given in the JSON body; knobs not given keep their value."""
    body = await json_body(request)
    try:
        return state.set_faults(_portal(portal), **body).model_dump()
    except UnknownKnobError as exc:
        detail = {"detail": str(exc), "unknown": exc.names, "known": list(KNOBS)}
        raise Reply(JSONResponse(detail, status_code=422)) from None
    except ValidationError as exc:
        errors = json.loads(exc.json(include_url=False, include_input=True))
        raise Reply(JSONResponse({"detail": errors}, status_code=422)) from None


@router.get("/stats")
async def stats(state: StateDep) -> dict[str, Any]:
    return state.stats()


@router.post("/reset")
async def reset(state: StateDep) -> dict[str, str]:
    state.reset()
    return {"status": "reset"}


@router.post("/clock/advance")
async def advance_clock(body: ClockAdvance, state: StateDep) -> dict[str, float]:
    """Jump the simulated clock (lockouts, session lifetimes) forward."""
    state.clock.advance(body.seconds)
    return {"advanced_seconds": body.seconds}
