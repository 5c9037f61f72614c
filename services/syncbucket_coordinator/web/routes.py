"""Wire the web app into the coordinator's FastAPI app: templates, hub, static, routers.

Security headers go on every page: a Content-Security-Policy that allows only this
site's own scripts and styles (no inline code: htmx's eval and indicator styles are off),
no framing, no referrer leaks. Static files are served with a long cache; their URLs
carry the files' hash (``asset_version``), so a new release is fetched at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from syncbucket.clientmaster.filters import CREDENTIAL_WORDS, CredentialFilter
from syncbucket.domain.portals import MODULE_TITLES, ModuleKey, Portal
from syncbucket_coordinator.container import Coordinator
from syncbucket_coordinator.web import (
    pages_admin,
    pages_bucket,
    pages_clients,
    pages_runs,
    pages_schedules,
    pages_signin,
    wording,
)
from syncbucket_coordinator.web.context import STATIC, TEMPLATES, WebContext, policies
from syncbucket_coordinator.web.errors import install_page_errors
from syncbucket_coordinator.web.forms import PAGE_SIZES, query_string
from syncbucket_coordinator.web.progress import Progress, ProgressHub

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
PAGE_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
STATIC_CACHE = (b"cache-control", b"public, max-age=31536000, immutable")
MACHINE_PREFIXES = ("/api/", "/healthz", "/metrics")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class PageHeaders:
    """Pure ASGI middleware (no buffering, so Server-Sent Events stream untouched)."""

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(MACHINE_PREFIXES):
            await self.app(scope, receive, send)
            return
        extra = [*PAGE_HEADERS]
        if path.startswith("/static/"):
            extra.append(STATIC_CACHE)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


def asset_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def make_templates(clock: wording.Clock) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.globals.update(
        number=wording.number,
        plural=wording.plural,
        amount=wording.amount,
        duration=wording.duration,
        rate=wording.rate,
        who=wording.who,
        when=clock.when,
        day_of=lambda moment: clock.when(moment)[:11] if moment else "never",
        module_title=wording.module_title,
        portal_title=wording.portal_title,
        cell=wording.cell,
        status_message=wording.status_message,
        status_words=wording.RUN_STATUS_WORDS,
        source_words=wording.SOURCE_WORDS,
        credential_words=wording.CREDENTIAL_WORDS,
        # What the filter form and the tables offer, the same on every page.
        credential_filters=[(f.value, CREDENTIAL_WORDS[f]) for f in CredentialFilter],
        modules=list(ModuleKey),
        titles=MODULE_TITLES,
        portals=list(Portal),
        sizes=PAGE_SIZES,
        qs=query_string,
        asset_version=asset_version(),
    )
    return templates


def install_web(app: FastAPI, coordinator: Coordinator) -> WebContext:
    settings = coordinator.settings
    clock = wording.Clock(settings.web_time_zone)
    templates = make_templates(clock)
    fragment = templates.env.get_template("_progress.html")

    def render(progress: Progress) -> str:
        return fragment.render(progress=progress)

    hub = ProgressHub(
        coordinator.sessions, render, coordinator.clock, settings.progress_tick_seconds
    )
    session_policy, throttle = policies(settings)
    context = WebContext(coordinator, templates, hub, clock, session_policy, throttle)
    app.state.web = context
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (
        pages_signin,
        pages_clients,
        pages_bucket,
        pages_runs,
        pages_schedules,
        pages_admin,
    ):
        app.include_router(module.router)
    install_page_errors(app)
    app.add_middleware(PageHeaders)
    return context
