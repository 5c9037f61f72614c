"""Faults on the wire: every request to a portal passes here first.

Order: count the request; rate limit (429 + Retry-After, counted); maintenance (503 +
Retry-After); latency; hang (timeout); 5xx; then, for data requests only, an HTML error
page instead of JSON, or the JSON body cut in half. /admin and /metrics are never faulted.
"""

from __future__ import annotations

import asyncio

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from syncbucket.portalsim.endpoints import Endpoint, classify
from syncbucket.portalsim.faults import FaultSettings
from syncbucket.portalsim.replies import error_page
from syncbucket.portalsim.state import SimulatorState

SERVER_ERRORS = (500, 502, 503)
PAGE_TITLES = {"traces": "TRACES : Error", "itportal": "e-Filing : Error"}


class FaultMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        endpoint = classify(request.url.path)
        if endpoint is None:
            return await call_next(request)
        state = request.app.state.sim
        assert isinstance(state, SimulatorState)
        state.counters.request(endpoint.portal, endpoint.name)
        response = await _answer(state, endpoint, request, call_next)
        state.counters.response(endpoint.portal, response.status_code)
        return response


async def _answer(
    state: SimulatorState, endpoint: Endpoint, request: Request, call_next: RequestResponseEndpoint
) -> Response:
    portal = endpoint.portal
    wait = state.take_token(portal)
    if wait:
        state.counters.limited(portal)
        return rate_limited(portal, wait)
    settings = state.faults(portal)
    if settings.maintenance:
        return maintenance(settings)
    await _delay(state, settings)
    if state.chance(settings.error_5xx_rate):
        status = state.choice(SERVER_ERRORS)
        return error_page(status, f"{status} Server Error")
    if endpoint.is_data and state.chance(settings.html_rate):
        return error_page(200, PAGE_TITLES[portal])
    response = await call_next(request)
    if endpoint.is_data and state.chance(settings.truncated_rate):
        return await truncated(response)
    return response


async def _delay(state: SimulatorState, settings: FaultSettings) -> None:
    low = settings.latency_ms_min
    high = max(low, settings.latency_ms_max)
    if high > 0:
        await asyncio.sleep(state.uniform(low, high) / 1000)
    if state.chance(settings.timeout_rate):
        await _hang(state, settings.timeout_hang_seconds)


async def _hang(state: SimulatorState, seconds: float) -> None:
    """Sleep ``seconds``, but end early when the server is stopping (so stop() is quick)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not state.stopping.is_set():
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.05))


def rate_limited(portal: str, retry_after: int) -> Response:
    message = "Too many requests; retry later"
    body: dict[str, object]
    if portal == "itportal":
        body = {"messages": [{"code": "TOO_MANY_REQUESTS", "type": "ERROR", "desc": message}]}
    else:
        body = {"errorCode": "TOO_MANY_REQUESTS", "message": message}
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})


def maintenance(settings: FaultSettings) -> Response:
    body = {
        "errorCode": "SERVER_MAINTENANCE_ERROR",
        "message": "The portal is under scheduled maintenance; please try again later",
    }
    retry = str(settings.maintenance_retry_after_seconds)
    return JSONResponse(body, status_code=503, headers={"Retry-After": retry})


async def truncated(response: Response) -> Response:
    """The same response with its JSON body cut in half (only successful JSON answers)."""
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return response
    chunks = [chunk async for chunk in response.body_iterator]  # type: ignore[attr-defined]
    body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    return Response(body[: len(body) // 2], status_code=200, headers=headers)
