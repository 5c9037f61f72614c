"""The FastAPI application: ``create_app(coordinator)``; the API under ``/api/v1``, the web
app (``syncbucket_coordinator.web``) on every other path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from syncbucket.metrics import render_latest
from syncbucket_coordinator import routes_clients, routes_runs, routes_schedules
from syncbucket_coordinator.container import Coordinator
from syncbucket_coordinator.errors import API_PREFIX
from syncbucket_coordinator.web.routes import install_web

DESCRIPTION = """Start and follow SyncBucket runs for a firm's clients.

Authenticate with the firm's API token: `Authorization: Bearer sbk_...`
(printed by `syncbucket firms create`). Errors: `{"error": code, "message": text}`.
"""


def create_app(coordinator: Coordinator) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await web.hub.close()  # live-progress streams end, so shutdown is not held up

    app = FastAPI(
        lifespan=lifespan,
        title="SyncBucket coordinator",
        description=DESCRIPTION,
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from the vendored Swagger UI, never from a CDN
        redoc_url=None,
    )
    app.state.coordinator = coordinator
    web = install_web(app, coordinator)  # also installs the (JSON on the API) error handlers
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(routes_runs.router)
    api.include_router(routes_clients.router)
    api.include_router(routes_schedules.router)
    app.include_router(api)

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The interactive API docs, loading nothing from outside this site."""
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="SyncBucket coordinator API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="data:,",
        )

    @app.get("/healthz", tags=["health"], summary="Database reachable, loops alive, who leads")
    def healthz() -> JSONResponse:
        """200 when the database answers and the loops this replica should run are alive
        (the duty loops only while it leads), else 503; ``leader`` says who leads."""
        body = health(coordinator)
        return JSONResponse(body, 200 if body["status"] == "ok" else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        """The coordinator's Prometheus metrics (also on its own metrics port)."""
        body, content_type = render_latest()
        return Response(body, media_type=content_type)

    return app


def health(coordinator: Coordinator) -> dict[str, Any]:
    """Database, loops and who leads (docs/architecture.md §18).

    A replica that does not lead is healthy with its duty loops stopped; a leader needs
    them running. ``leader.holder`` is who leads now by the lease row (null while the
    lease is free or expired), the same answer on every replica.
    """
    leadership = coordinator.leadership
    leading = leadership.leading
    duties = leadership.duties
    leader: dict[str, Any] = {
        "leading": leading,
        "replica": leadership.lease.holder,  # this replica's holder id
        "holder": None,
        "fencing_token": None,
        "lease_expires_in_seconds": None,
        "lease_seconds": leadership.lease.ttl_seconds,
    }
    try:
        with coordinator.sessions() as session:
            session.execute(sa.text("SELECT 1"))
            view = leadership.lease.view(session)
        database = "ok"
        if view is not None:
            left = view.expires_in_seconds
            leader["holder"] = view.active_holder
            leader["fencing_token"] = view.fencing_token
            leader["lease_expires_in_seconds"] = None if left is None else round(left, 3)
    except Exception as exc:
        database = f"unreachable: {type(exc).__name__}"
    loops = {
        loop.name: {
            "running": loop.running,
            "leader_only": any(loop is duty for duty in duties),
            "ticks": loop.stats.ticks,
            "failures": loop.stats.failures,
            "last_error": loop.stats.last_error,
        }
        for loop in coordinator.loops
    }
    expected = [loop for loop in coordinator.loops if leading or all(loop is not d for d in duties)]
    loops_ok = not coordinator.started or all(loop.running for loop in expected)
    ok = database == "ok" and loops_ok
    return {
        "status": "ok" if ok else "unhealthy",
        "database": database,
        "loops": loops,
        "leader": leader,
    }
