"""Errors as pages: what went wrong in words, with the right status.

API paths keep their JSON (:mod:`syncbucket_coordinator.errors` routes by path). A run
or client of another firm answers the same 404 page as one that does not exist. A
signed-out request goes to the sign-in page (htmx requests are told with
``HX-Redirect``, so a partial update never swaps a sign-in form into a table).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from syncbucket.clientmaster.errors import ClientNotFound
from syncbucket.config import ConfigError
from syncbucket.domain.roles import PERMISSION_WORDS
from syncbucket.pipeline.errors import RunNotFound
from syncbucket.schedules.errors import InvalidSchedule, ScheduleNotFound
from syncbucket_coordinator.errors import Handler, field_name, install_error_handlers
from syncbucket_coordinator.web.identity import (
    BadCsrf,
    NotAllowed,
    PasswordChangeRequired,
    SignedOut,
    TooLarge,
    web,
)


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


NOT_FOUND = ("Not found", "There is no such page here, or it belongs to another firm.")


def page(request: Request, status: int, title: str, message: str) -> Response:
    context = web(request)
    user = getattr(request.state, "user", None)
    response = context.templates.TemplateResponse(
        request,
        "error.html",
        {"title": title, "message": message, "user": user, "status": status},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
    return response


def _back_to(request: Request) -> str:
    """Where to come back after signing in: the page the person was on (for a partial
    update, the page that asked for it, not the fragment), with its query."""
    if request.headers.get("HX-Request"):
        shown = urlsplit(request.headers.get("HX-Current-URL", ""))
        return (shown.path + (f"?{shown.query}" if shown.query else "")) or "/"
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _redirect(request: Request, target: str) -> Response:
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def render(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignedOut):
        return _redirect(request, f"/signin?next={quote(_back_to(request), safe='/')}")
    if isinstance(exc, PasswordChangeRequired):
        return _redirect(request, "/account/password")
    if isinstance(exc, NotAllowed):
        words = PERMISSION_WORDS[exc.permission]
        return page(request, 403, "Not allowed", f"Your role ({exc.user.role}) cannot {words}.")
    if isinstance(exc, BadCsrf):
        message = (
            "This form has expired or did not come from this site. Reload the page and try again."
        )
        return page(request, 403, "Form expired", message)
    if isinstance(exc, TooLarge):
        return page(
            request,
            413,
            "Too large",
            "The file is larger than 5 MB: split it and import each part.",
        )
    if isinstance(exc, PageError):
        return page(request, exc.status, exc.title, exc.message)
    if isinstance(exc, RunNotFound | ClientNotFound | ScheduleNotFound):
        return page(request, 404, *NOT_FOUND)
    if isinstance(exc, InvalidSchedule):
        return page(request, 422, "Cannot do that", str(exc))
    if isinstance(exc, ConfigError):
        return page(request, 503, "Not configured", str(exc))
    if isinstance(exc, RequestValidationError):
        errors = exc.errors()
        if any(err["loc"][:1] == ("path",) for err in errors):
            return page(request, 404, *NOT_FOUND)
        shown = "; ".join(f"{field_name(err['loc'])}: {err['msg']}" for err in errors)
        return page(request, 400, "Bad request", shown)
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return page(request, 404, *NOT_FOUND)
        return page(request, exc.status_code, "Error", str(exc.detail))
    raise exc


def install_page_errors(app: FastAPI) -> None:
    pages: Handler = render
    install_error_handlers(app, pages)
    for kind in (
        SignedOut,
        PasswordChangeRequired,
        NotAllowed,
        BadCsrf,
        TooLarge,
        PageError,
        ClientNotFound,
        ConfigError,
    ):
        app.add_exception_handler(kind, pages)
