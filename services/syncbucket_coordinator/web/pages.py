"""Rendering a page: the template plus what every page needs (user, role, nav area)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.domain.roles import Permission, allows
from syncbucket_coordinator.web.identity import web

NO_STORE = {"Cache-Control": "no-store"}
# What a redirect may announce (``?notice=<key>``): fixed words, never text from the URL.
NOTICES = {
    "password-changed": "Your password is changed.",
    "client-saved": "The client is saved.",
    "cancel-requested": (
        "Cancel requested: no further item starts; items already with a portal finish."
    ),
}


def show(
    request: Request,
    template: str,
    *,
    user: SignedInUser | None,
    area: str = "",
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    context = web(request)
    values.setdefault("notice", NOTICES.get(request.query_params.get("notice", ""), ""))
    values.update(
        user=user,
        area=area,
        can_run=user is not None and allows(user.role, Permission.RUN),
        can_manage=user is not None and allows(user.role, Permission.MANAGE),
    )
    response: HTMLResponse = context.templates.TemplateResponse(
        request, template, values, status_code=status, headers=NO_STORE
    )
    return response
