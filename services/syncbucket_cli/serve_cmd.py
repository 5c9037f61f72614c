"""``syncbucket serve ...``: run one of the system's servers in the foreground."""

from __future__ import annotations

from typing import Annotated

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
