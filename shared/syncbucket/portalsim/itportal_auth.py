"""IT portal login: two posts to ``/iec/loginapi/login`` (request id, then password), a
few live sessions per user, and the bearer-token check of every data request."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from syncbucket.portalsim.counters import LoginResult
from syncbucket.portalsim.deps import StateDep, bearer_token, get_state
from syncbucket.portalsim.lockouts import Verdict
from syncbucket.portalsim.replies import it_error, json_body, text
from syncbucket.portalsim.state import SimulatorState

PORTAL = "itportal"
router = APIRouter(prefix="/iec/loginapi")


@router.post("/login")
async def login(request: Request, state: StateDep) -> dict[str, Any]:
    body = await json_body(request)
    entity = text(body, "entity").upper()
    service = text(body, "serviceName")
    if not entity:
        raise it_error(400, "INVALID_REQUEST", "entity is required")
    if service == "wLoginService":
        req_id = state.itportal.new_req_id(entity)
        return {"reqId": req_id, "entity": entity, "role": ["TDS"], "messages": []}
    if service == "loginService":
        return _second_step(state, body, entity)
    raise it_error(400, "INVALID_REQUEST", "serviceName must be wLoginService or loginService")


def _second_step(state: SimulatorState, body: dict[str, Any], entity: str) -> dict[str, Any]:
    req_id = text(body, "reqId")
    if not state.itportal.req_id_valid(req_id, entity):
        raise it_error(400, "INVALID_REQUEST", "Login request expired or unknown; start again")
    password = body.get("pass")
    state.counters.login_attempt(PORTAL, entity)
    decision = state.lockouts.decide(PORTAL, entity, password if isinstance(password, str) else "")
    if decision.verdict is Verdict.REJECTED:
        state.counters.login(PORTAL, LoginResult.REJECTED)
        raise it_error(401, "EF00027", "Invalid Password, Please retry.")
    if decision.verdict is not Verdict.OK:
        locked_now = decision.verdict is Verdict.LOCKED_NOW
        state.counters.login(PORTAL, LoginResult.REJECTED if locked_now else LoginResult.LOCKED)
        if locked_now:
            state.counters.lockout(PORTAL)
        raise it_error(403, "LOCKED", "Your account is locked. Please try after 1 hour.")
    settings = state.faults(PORTAL)
    token = state.itportal.open_session(
        entity,
        req_id,
        settings.session_ttl_seconds,
        settings.max_sessions,
        force=body.get("forceLogin") is True,
    )
    if token is None:
        state.counters.login(PORTAL, LoginResult.SESSION_LIMIT)
        raise it_error(409, "EF00177", "Session already active. Do you want to force login?")
    state.counters.login(PORTAL, LoginResult.SUCCEEDED)
    return {"authToken": token, "userId": entity, "messages": []}


def session_user(request: Request, state: Annotated[SimulatorState, Depends(get_state)]) -> str:
    """The user of the request's bearer token, or ``401 EF00002``."""
    ttl = state.faults(PORTAL).session_ttl_seconds
    user = state.itportal.session_user(bearer_token(request), ttl)
    if user is None:
        raise it_error(401, "EF00002", "Session expired")
    return user


SessionUser = Annotated[str, Depends(session_user)]
