"""``syncbucket firms``: the tenants and their API tokens."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncbucket.clientmaster.firms import create_firm, list_firms
from syncbucket_cli.runtime import transaction

app = typer.Typer(help="Firms (tenants) and their API tokens.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Firms (tenants) and their API tokens."""


@app.command("create")
def create(name: Annotated[str, typer.Argument(help="the firm's name, unique")]) -> None:
    """Create a firm and print its API token (shown once: only its hash is stored)."""
    with transaction() as session:
        firm, token = create_firm(session, name)
    typer.echo(f"created firm {firm.name!r} (id {firm.id})")
    typer.echo(f"API token (shown only now, store it safely): {token}")


@app.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List firms with their client and live-token counts."""
    with transaction() as session:
        firms = list_firms(session)
    if as_json:
        rows = [
            {"id": f.id, "name": f.name, "clients": f.clients, "live_tokens": f.live_tokens}
            for f in firms
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("Firm", "Clients", "API tokens", "Created (UTC)")
    for firm in firms:
        created = firm.created_at.strftime("%Y-%m-%d %H:%M")
        table.add_row(firm.name, str(firm.clients), str(firm.live_tokens), created)
    Console().print(table)
