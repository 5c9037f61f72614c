"""The simulator's FastAPI application: TRACES, IT portal, admin and metrics on one server."""

from __future__ import annotations

from fastapi import FastAPI, Response

from syncbucket.portalsim import admin_routes, itportal_routes, traces_routes
from syncbucket.portalsim.metrics import make_registry, render
from syncbucket.portalsim.middleware import FaultMiddleware
from syncbucket.portalsim.replies import Reply, reply_handler
from syncbucket.portalsim.state import SimulatorState


def create_app(state: SimulatorState | None = None) -> FastAPI:
    """A new simulator app; pass ``state`` to share or inspect it (tests, RunningSimulator)."""
    app = FastAPI(
        title="SyncBucket portal simulator",
        description="TRACES and the IT portal with deterministic data and faults on demand.",
        version="1",
    )
    app.state.sim = state if state is not None else SimulatorState()
    registry = make_registry(app.state.sim)
    app.add_exception_handler(Reply, reply_handler)
    app.add_middleware(FaultMiddleware)
    app.include_router(traces_routes.router)
    app.include_router(itportal_routes.router)
    app.include_router(admin_routes.router)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body, content_type = render(registry)
        return Response(body, media_type=content_type)

    return app
