"""Library errors translated to HTTP at this boundary, all with one shape.

Every error response body is ``{"error": <code>, "message": <text a person can act on>}``
(validation errors add ``"fields"``: one entry per offending field).

    ApiError             raised by this package (401, 404, 409, 422 ...)
    RunRefused           pipeline refused to create a run        -> 422 (409 if a conflict)
    RunNotFound          unknown run, or another firm's          -> 404
    InvalidSchedule      a schedule field the library refused    -> 422, naming the field
    ScheduleNameTaken    the firm has a schedule of that name    -> 409
    ScheduleNotFound     unknown schedule, or another firm's     -> 404
    RequestValidationError  body / query / path invalid          -> 422, naming the field
    HTTPException        Starlette's own (unknown path, 405)     -> same status
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from syncbucket.pipeline.errors import RunNotFound, RunRefused
from syncbucket.schedules.errors import InvalidSchedule, ScheduleNameTaken, ScheduleNotFound

# Union tags of the request schemas (see schemas_in.py): they are not field names.
_UNION_TAGS = frozenset({"all", "selection", "list", "by_filter"})
# RunRefused codes about the state of a run rather than the request: 409 Conflict.
CONFLICT_CODES = frozenset({"parent_not_finished"})
# Clearer words than pydantic's when a union of schemas_in.py got the wrong kind of value.
_HINTS = {
    "clients": 'expected "all", {"tans": [...]}, {"ids": [...]} or {"filter": {...}}',
    "modules": 'expected "all" or a list of module keys',
}
_WRONG_KIND = frozenset(
    {"literal_error", "union_tag_invalid", "model_type", "model_attributes_type"}
)


class ApiError(Exception):
    """An HTTP error this package raises on purpose.

    ``fields`` (``[{"field": ..., "message": ...}]``) is for a 422 the library, not
    pydantic, decided: the body has the same shape as a validation error's.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        fields: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.fields = [dict(f) for f in fields] if fields is not None else None


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def field_name(loc: Sequence[int | str]) -> str:
    """``("body", "clients", "selection", "tans", 0)`` -> ``clients.tans[0]``.

    The leading ``body``/``query``/``path``/``header`` goes, unless it is all there is.
    """
    parts = [p for p in loc[1:] if p not in _UNION_TAGS] if len(loc) > 1 else list(loc)
    if parts and isinstance(parts[0], int):  # a JSON syntax error: loc = ("body", offset)
        return str(loc[0])
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or str(loc[0] if loc else "request")


def _field_message(field: str, error: Mapping[str, Any]) -> str:
    if field in _HINTS and error["type"] in _WRONG_KIND:
        return _HINTS[field]
    if error["type"] == "json_invalid":
        return f"not valid JSON ({error.get('ctx', {}).get('error', 'syntax error')})"
    return str(error["msg"]).removeprefix("Value error, ")


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    extra = {"fields": exc.fields} if exc.fields is not None else {}
    body = error_body(exc.code, exc.message, **extra)
    return JSONResponse(body, exc.status, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    named = [(field_name(err["loc"]), err) for err in exc.errors()]
    fields = [{"field": name, "message": _field_message(name, err)} for name, err in named]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return JSONResponse(error_body("invalid_request", message, fields=fields), 422)


async def _run_refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RunRefused)
    status = 409 if exc.code in CONFLICT_CODES else 422
    return JSONResponse(error_body(exc.code, exc.message), status)


async def _run_not_found(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RunNotFound)
    return JSONResponse(error_body("run_not_found", str(exc)), 404)


async def _invalid_schedule(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidSchedule)
    if isinstance(exc, ScheduleNameTaken):
        return JSONResponse(error_body("schedule_exists", exc.message), 409)
    # The library's "filter.<field>" is the body's "clients.filter.<field>".
    field = f"clients.{exc.field}" if exc.field.split(".")[0] == "filter" else exc.field
    fields = [{"field": field, "message": exc.message}]
    return JSONResponse(
        error_body("invalid_request", f"{field}: {exc.message}", fields=fields), 422
    )


async def _schedule_not_found(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScheduleNotFound)
    return JSONResponse(error_body("schedule_not_found", str(exc)), 404)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        error_body(code, str(exc.detail)), exc.status_code, headers=dict(exc.headers or {})
    )


API_PREFIX = "/api/v1"
#: Answers people read in a browser: every path outside the API and the probes.
MACHINE_PATHS = (API_PREFIX, "/healthz", "/metrics")

Handler = Callable[[Request, Exception], Awaitable[Response]]
_HANDLERS: dict[type[Exception], Handler] = {
    ApiError: _api_error,
    RequestValidationError: _validation_error,
    RunRefused: _run_refused,
    RunNotFound: _run_not_found,
    InvalidSchedule: _invalid_schedule,
    ScheduleNotFound: _schedule_not_found,
    HTTPException: _http_error,
}


def for_machines(request: Request) -> bool:
    return request.url.path.startswith(MACHINE_PATHS)


def install_error_handlers(app: FastAPI, pages: Handler | None = None) -> None:
    """JSON errors on the API; with ``pages``, HTML pages for every other path."""
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, _routed(handler, pages))


def _routed(handler: Handler, pages: Handler | None) -> Handler:
    async def route(request: Request, exc: Exception) -> Response:
        if pages is None or for_machines(request):
            return await handler(request, exc)
        return await pages(request, exc)

    return route
