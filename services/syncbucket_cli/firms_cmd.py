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
from syncbucket.db import api_tokens
from syncbucket.db.base import utcnow
from syncbucket.db.firms import ApiToken
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


# --- syncbucket firms token create|list|revoke ------------------------------------------
# docs/api.md ("Authentication") says how the tokens are used.


token_app = typer.Typer(
    help="A firm's API tokens: issue one, list them (never the token), revoke one.",
    no_args_is_help=True,
)
app.add_typer(token_app, name="token")

FirmName = Annotated[str, typer.Argument(help="the firm's name (syncbucket firms list)")]


@token_app.callback()
def _token_group() -> None:
    """A firm's API tokens (the API's bearer tokens, docs/api.md)."""


@token_app.command("create")
def token_create(
    name: FirmName,
    label: Annotated[
        str | None, typer.Option("--label", help="what the token is for, shown by list")
    ] = None,
) -> None:
    """Issue a new API token for the firm and print it once: only its hash is stored."""
    with transaction() as session:
        firm = find_firm(session, name)
        if firm is None:
            fail(f"no firm named {name!r} (syncbucket firms list)")
        token = api_tokens.issue_token(session, firm, label=label, created_by="cli")
    typer.echo(f"firm {name!r}: new API token (shown only now, store it safely): {token}")


@token_app.command("list")
def token_list(
    name: FirmName,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The firm's tokens, newest first: id, prefix, label, created, revoked. Never the token."""
    with transaction() as session:
        firm = find_firm(session, name)
        if firm is None:
            fail(f"no firm named {name!r} (syncbucket firms list)")
        tokens = api_tokens.list_tokens(session, firm.id)
        rows = [_token_row(token) for token in tokens]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("Id", "Token", "Label", "Created (UTC)", "Revoked (UTC)")
    for row in rows:
        table.add_row(
            str(row["id"]),
            f"{row['prefix']}…",
            str(row["label"] or ""),
            _minute(row["created_at"]),
            _minute(row["revoked_at"]) or "live",
        )
    Console().print(table)


@token_app.command("revoke")
def token_revoke(
    name: FirmName,
    token_id: Annotated[int, typer.Argument(help="the token's id (syncbucket firms token list)")],
) -> None:
    """Revoke one of the firm's tokens at once: requests bearing it get 401 from then on.

    Scoped to the firm: another firm's token id is "not found", never revoked.
    """
    with transaction() as session:
        firm = find_firm(session, name)
        if firm is None:
            fail(f"no firm named {name!r} (syncbucket firms list)")
        revoked = api_tokens.revoke_token_id(session, firm.id, token_id)
    if not revoked:
        fail(f"firm {name!r} has no live token with id {token_id} (syncbucket firms token list)")
    typer.echo(f"revoked token {token_id} of firm {name!r}")


def _token_row(token: ApiToken) -> dict[str, str | int | None]:
    """What may be shown about a token: never its hash, and the plaintext is not stored."""
    return {
        "id": token.id,
        "prefix": token.token_prefix,
        "label": token.label,
        "created_by": token.created_by,
        "created_at": token.created_at.isoformat(),
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _minute(value: str | int | None) -> str:
    """An ISO timestamp of :func:`_token_row` as ``YYYY-MM-DD HH:MM``; ``""`` for none."""
    return str(value)[:16].replace("T", " ") if value else ""
