"""Composition of the ``syncbucket`` command: each command group lives in its own module."""

from __future__ import annotations

import typer

from syncbucket.config import ConfigError
from syncbucket.crypto import generate_secret_key
from syncbucket_cli import (
    clients_cmd,
    db_cmd,
    demo_cmd,
    firms_cmd,
    requests_cmd,
    run_cmd,
    schedules_cmd,
    serve_cmd,
    users_cmd,
    worker_cmd,
)

app = typer.Typer(
    name="syncbucket",
    help="Synchronise TRACES and IT-portal data for all of a firm's clients in one run.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(firms_cmd.app, name="firms")
app.add_typer(clients_cmd.app, name="clients")
app.add_typer(users_cmd.app, name="users")
app.add_typer(serve_cmd.app, name="serve")
app.add_typer(run_cmd.app, name="run")
app.add_typer(schedules_cmd.app, name="schedules")
app.add_typer(requests_cmd.app, name="requests")
app.command("worker")(worker_cmd.worker)
app.add_typer(demo_cmd.app, name="demo")


@app.command()
def keygen() -> None:
    """Print a new random value for SYNCBUCKET_SECRET_KEY."""
    typer.echo(generate_secret_key())


def run() -> None:
    try:
        app()
    except ConfigError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
