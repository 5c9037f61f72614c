"""The portals' ways of saying no: error bodies, HTML pages, and an exception to short-cut
a route (or a dependency) with a ready response."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from syncbucket.portalsim.data.dataset import MAX_PAGE_SIZE

TRACES_LOGIN_PAGE = """<!DOCTYPE html>
<html><head><title>TRACES : Login</title></head>
<body><form id="loginForm" action="/traces/app/srv/auth/login" method="post">
<label>User ID</label><input name="userId"/><label>Password</label><input type="password"/>
<p>Your session has expired. Please login again.</p></form></body></html>
"""

ERROR_PAGE = """<!DOCTYPE html>
<html><head><title>{title}</title></head>
<body><h1>{title}</h1><p>The server encountered an error. Please try again later.</p></body></html>
"""


class Reply(Exception):
    """Raise with a response to answer it at once (installed as an exception handler)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def reply_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Reply)
    return exc.response


def traces_error(status: int, code: str, message: str, **extra: Any) -> Reply:
    return Reply(JSONResponse({"errorCode": code, "message": message, **extra}, status_code=status))


def it_error(status: int, code: str, desc: str) -> Reply:
    body = {"messages": [{"code": code, "type": "ERROR", "desc": desc}]}
    return Reply(JSONResponse(body, status_code=status))


def error_page(status: int, title: str) -> HTMLResponse:
    return HTMLResponse(ERROR_PAGE.format(title=title), status_code=status)


def login_page() -> HTMLResponse:
    return HTMLResponse(TRACES_LOGIN_PAGE, status_code=200)


def page_problem(page_no: int, page_size: int) -> str | None:
    """What is wrong with the paging parameters, if anything."""
    if page_no < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        return f"pageNo must be >= 1 and pageSize 1..{MAX_PAGE_SIZE}"
    return None


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or {} when it is missing or not an object."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value.strip() if isinstance(value, str) else ""
