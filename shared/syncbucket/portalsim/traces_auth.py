"""TRACES login: captcha -> login (access token) -> preAuth (JSESSIONID), and the session
check every data page makes (410 or the HTML login page when it is gone)."""

from __future__ import annotations

import base64
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from syncbucket.portalsim.counters import LoginResult
from syncbucket.portalsim.deps import StateDep, bearer_token, get_state
from syncbucket.portalsim.lockouts import LoginDecision, Verdict
from syncbucket.portalsim.replies import Reply, json_body, login_page, text, traces_error
from syncbucket.portalsim.state import SimulatorState

PORTAL = "traces"
router = APIRouter(prefix="/app/srv/auth")


@router.get("/generateCaptcha")
async def generate_captcha(state: StateDep) -> dict[str, str]:
    captcha_id, answer = state.traces.new_captcha()
    return {"id": captcha_id, "image": base64.b64encode(answer.encode()).decode()}


@router.post("/login")
async def login(request: Request, state: StateDep) -> dict[str, Any]:
    body = await json_body(request)
    if text(body, "userType") != "Deductor":
        raise traces_error(400, "INVALID_REQUEST", "userType must be Deductor")
    if not state.traces.use_captcha(text(body, "captchaId"), text(body, "captcha")):
        raise traces_error(400, "INVALID_CAPTCHA", "Invalid captcha, please try again")
    user_id = text(body, "userId").upper()
    password = body.get("password")
    state.counters.login_attempt(PORTAL, user_id)
    decision = state.lockouts.decide(PORTAL, user_id, password if isinstance(password, str) else "")
    return _login_answer(state, user_id, decision)


def _login_answer(state: SimulatorState, user_id: str, decision: LoginDecision) -> dict[str, Any]:
    counters = state.counters
    if decision.verdict is Verdict.OK:
        counters.login(PORTAL, LoginResult.SUCCEEDED)
        ttl = state.faults(PORTAL).session_ttl_seconds
        return {
            "accessToken": state.traces.issue_token(user_id, ttl),
            "refreshToken": secrets.token_urlsafe(24),  # the simulator has no refresh route
            "expiresIn": int(ttl),
        }
    if decision.verdict is Verdict.REJECTED:
        counters.login(PORTAL, LoginResult.REJECTED)
        raise traces_error(
            401,
            "INVALID_CREDENTIALS",
            "Invalid User Id / Password",
            attemptsLeft=decision.attempts_left,
        )
    if decision.verdict is Verdict.LOCKED_NOW:
        counters.login(PORTAL, LoginResult.REJECTED)
        counters.lockout(PORTAL)
    else:
        counters.login(PORTAL, LoginResult.LOCKED)
    raise traces_error(
        403, "ACCOUNT_LOCKED", "Account locked after 5 failed logins; try again after 1 hour"
    )


@router.get("/preAuth")
async def pre_auth(request: Request, state: StateDep) -> Response:
    ttl = state.faults(PORTAL).session_ttl_seconds
    session_id = state.traces.open_session(bearer_token(request), ttl)
    if session_id is None:
        raise traces_error(401, "INVALID_TOKEN", "Access token is invalid or has expired")
    response = JSONResponse({"status": "OK"})
    response.set_cookie("JSESSIONID", session_id, path="/traces", httponly=True)
    return response


def session_tan(request: Request, state: Annotated[SimulatorState, Depends(get_state)]) -> str:
    """The TAN of the request's JSESSIONID, or the portal's expired-session answer."""
    settings = state.faults(PORTAL)
    session_id = request.cookies.get("JSESSIONID", "")
    tan = state.traces.session_user(session_id, settings.session_ttl_seconds)
    if tan is not None:
        return tan
    style = settings.session_expiry_style
    if style == "mixed":
        style = "html" if state.chance(0.5) else "410"
    if style == "html":
        raise Reply(login_page())
    raise traces_error(410, "SESSION_EXPIRED", "Session expired, please login again")


SessionTan = Annotated[str, Depends(session_tan)]
