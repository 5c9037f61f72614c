"""``syncbucket firms``: the tenants and their API tokens."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncbucket.clientmaster.firms import create_firm, find_firm, list_firms
from syncbucket.config import load_settings
from syncbucket.db.base import utcnow
from syncbucket.intake import integration_secrets
from syncbucket_cli.runtime import cipher, fail, transaction

app = typer.Typer(
    help="Firms (tenants), their API tokens and integration secrets.", no_args_is_help=True
)


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


@app.command("integration-secret")
def integration_secret(
    name: Annotated[str, typer.Argument(help="the firm's name")],
    list_only: Annotated[
        bool, typer.Option("--list", help="list the firm's secrets (prefixes) instead")
    ] = False,
    revoke_all: Annotated[
        bool, typer.Option("--revoke-all", help="end every secret of the firm now (a leak)")
    ] = False,
) -> None:
    """Issue the firm's secret for signing sync requests (shown once).

    Issuing again rotates: the previous secret stays valid for
    SYNCBUCKET_INTEGRATION_SECRET_GRACE_HOURS (24 by default) while the upstream system
    switches. The secret is stored encrypted with SYNCBUCKET_SECRET_KEY.
    """
    settings = load_settings()
    now = utcnow()
    credentials_cipher = cipher()
    with transaction() as session:
        firm = find_firm(session, name)
        if firm is None:
            fail(f"no firm named {name!r} (syncbucket firms list)")
        if list_only:
            listed = integration_secrets.list_secrets(session, firm.id)
        elif revoke_all:
            ended = integration_secrets.revoke_all(session, firm.id, now)
        else:
            grace = timedelta(hours=settings.integration_secret_grace_hours)
            secret = integration_secrets.issue(
                session, credentials_cipher, firm.id, now, grace=grace, created_by="cli"
            )
        firm_id = firm.id
    if list_only:
        _print_secrets(listed, now)
    elif revoke_all:
        typer.echo(f"revoked {ended} secret(s) of firm {name!r}: its signed requests now fail")
    else:
        typer.echo(f"firm {name!r}: firm id {firm_id} (the request's firmid attribute)")
        typer.echo(f"integration secret (shown only now, store it safely): {secret}")
        hours = settings.integration_secret_grace_hours
        typer.echo(f"any previous secret stays valid for {hours:g} h")


def _print_secrets(listed: list[integration_secrets.SecretInfo], now: datetime) -> None:
    table = Table("Secret", "Created (UTC)", "State")
    for info in listed:
        if info.revoked_at is not None:
            state = "revoked"
        elif info.expires_at is None:
            state = "current"
        elif info.live(now):
            state = f"valid until {info.expires_at:%Y-%m-%d %H:%M}"
        else:
            state = "expired"
        table.add_row(info.prefix + "…", f"{info.created_at:%Y-%m-%d %H:%M}", state)
    Console().print(table)
