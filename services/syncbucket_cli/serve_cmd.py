"""``syncbucket serve ...``: run one of the system's servers in the foreground."""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from syncbucket.config import load_settings

app = typer.Typer(no_args_is_help=True)


@app.callback()
def serve() -> None:
    """Run a SyncBucket server in the foreground."""


@app.command("portal-sim")
def portal_sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(help="Port (default: SYNCBUCKET_PORTAL_SIM_PORT, else 8090)."),
    ] = None,
) -> None:
    """Serve the TRACES + IT portal simulator (fault knobs: SYNCBUCKET_SIM_<PORTAL>_<KNOB>)."""
    from syncbucket.portalsim.faults import faults_from_env
    from syncbucket.portalsim.server import serve

    settings = load_settings()
    faults_from_env()  # a typo in a knob fails here, before the port is bound
    chosen = port if port is not None else settings.portal_sim_port
    typer.echo(f"portal simulator on http://{host}:{chosen} (TRACES /traces, IT portal /itportal)")
    serve(host=host, port=chosen, log_level=settings.log_level)


def _exec_service(module: str, args: list[str]) -> NoReturn:
    """Replace this process with the service's own entrypoint.

    Services never import each other; exec keeps each one's composition root its own and
    hands signals (Ctrl-C, SIGTERM) straight to it.
    """
    os.execv(sys.executable, [sys.executable, "-m", module, *args])  # noqa: S606 - fixed argv


@app.command()
def coordinator(
    host: Annotated[str | None, typer.Option(help="Interface (default: API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: API_PORT, 8080).")] = None,
) -> None:
    """Serve the coordinator: HTTP API, fair dispatcher and reaper."""
    args = [*(["--host", host] if host else []), *(["--port", str(port)] if port else [])]
    _exec_service("syncbucket_coordinator", args)


@app.command()
def requests() -> None:
    """Serve the request consumer: upstream sync-request events become runs."""
    _exec_service("syncbucket_requests", [])


@app.command()
def aggregator() -> None:
    """Serve the results aggregator and the outbox relay."""
    _exec_service("syncbucket_aggregator", [])
