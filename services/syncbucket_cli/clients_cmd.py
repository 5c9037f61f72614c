"""``syncbucket clients``: import, list and seed a firm's clients. No secret is ever printed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.clientmaster.demo_clients import MAX_DEMO_CLIENTS
from syncbucket.clientmaster.errors import FirmAmbiguousError
from syncbucket.clientmaster.firms import resolve_firm
from syncbucket.clientmaster.listing import ClientSummary, list_clients
from syncbucket.clientmaster.seed import DEFAULT_DEMO_FIRM, seed_demo
from syncbucket.db.firms import Firm
from syncbucket.domain.portals import PORTAL_TITLES
from syncbucket_cli.runtime import cipher, fail, transaction

app = typer.Typer(help="A firm's clients and their portal credentials.", no_args_is_help=True)

PORTAL_LABELS: dict[str, str] = {portal.value: title for portal, title in PORTAL_TITLES.items()}
FIRM_HELP = "firm name (may be omitted when exactly one firm exists)"
CSV_HELP = (
    "CSV with header name,tan,pan,traces_user,traces_password,itportal_user,itportal_password"
)
FirmOption = Annotated[str | None, typer.Option("--firm", help=FIRM_HELP)]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


@app.callback()
def _group() -> None:
    """A firm's clients and their portal credentials."""


def _firm(session: Session, name: str | None) -> Firm:
    try:
        return resolve_firm(session, name)
    except FirmAmbiguousError as exc:
        fail(f"{exc} with --firm NAME")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help=CSV_HELP)], firm: FirmOption = None) -> None:
    """Add or update clients from a CSV (by TAN). Exit status 1 if any row was rejected."""
    credentials_cipher = cipher()
    with transaction() as session:
        report = import_clients_csv(session, _firm(session, firm).id, file, credentials_cipher)
    for error in report.errors:
        typer.secho(str(error), fg=typer.colors.YELLOW, err=True)
    typer.echo(report.summary())
    if report.rejected:
        raise typer.Exit(1)


@app.command("list")
def list_(firm: FirmOption = None, as_json: JsonOption = False) -> None:
    """List a firm's clients and which portals have credentials (never the credentials)."""
    with transaction() as session:
        chosen = _firm(session, firm)
        clients = list_clients(session, chosen.id)
    if as_json:
        typer.echo(json.dumps([client.as_dict() for client in clients], indent=2))
        return
    Console().print(_table(chosen.name, clients))


def _table(firm_name: str, clients: list[ClientSummary]) -> Table:
    table = Table(title=f"{firm_name}: {len(clients)} clients")
    table.add_column("Name", ratio=3)
    table.add_column("TAN", no_wrap=True)
    table.add_column("PAN", no_wrap=True)
    table.add_column("Active")
    table.add_column("Credentials", ratio=1)
    table.add_column("Note", ratio=2)
    for c in clients:
        portals = ", ".join(PORTAL_LABELS.get(p, p) for p in c.portals) or "none"
        table.add_row(c.name, c.tan, c.pan, "yes" if c.active else "no", portals, c.demo_note)
    return table


@app.command("seed-demo")
def seed_demo_(
    count: Annotated[int, typer.Option("--count", min=0, max=MAX_DEMO_CLIENTS, help="how many")],
    firm: Annotated[str, typer.Option("--firm", help="created when missing")] = DEFAULT_DEMO_FIRM,
) -> None:
    """Create N deterministic demo clients (idempotent) with simulator credentials."""
    credentials_cipher = cipher()
    started = time.perf_counter()
    with transaction() as session:
        report = seed_demo(session, count, credentials_cipher, firm)
    elapsed = time.perf_counter() - started
    if report.token is not None:
        typer.echo(f"created firm {report.firm.name!r}")
        typer.echo(f"API token (shown only now, store it safely): {report.token}")
    typer.echo(f"{report.summary()} in {elapsed:.1f}s")
