"""``syncbucket clients``: import, list and seed a firm's clients. No secret is ever printed."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncbucket.clientmaster.csv_import import import_clients_csv
from syncbucket.clientmaster.demo_clients import MAX_DEMO_CLIENTS
from syncbucket.clientmaster.errors import FirmAmbiguousError
from syncbucket.clientmaster.firms import resolve_firm
from syncbucket.clientmaster.listing import ClientSummary, list_clients
from syncbucket.clientmaster.patching import (
    ClientPatch,
    PortalLogin,
    client_id_by_tan,
    patch_client,
)
from syncbucket.clientmaster.seed import DEFAULT_DEMO_FIRM, seed_demo
from syncbucket.db.firms import Firm
from syncbucket.domain.portals import PORTAL_TITLES, Portal
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
    """Add or update clients from a CSV (by TAN). Exit status 1 if any row was rejected.

    Rejected rows and warnings go to stderr with their lines; the summary to stdout. A
    database error is one line (its text would quote rows' names, TANs and PANs), and
    the transaction is rolled back so nothing is half imported.
    """
    credentials_cipher = cipher()
    with transaction() as session:
        try:
            report = import_clients_csv(session, _firm(session, firm).id, file, credentials_cipher)
        except SQLAlchemyError as exc:
            fail(f"the database refused the import ({type(exc).__name__}); nothing was imported")
    for error in report.errors:
        typer.secho(str(error), fg=typer.colors.YELLOW, err=True)
    for warning in report.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
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


# --- syncbucket clients edit ----------------------------------------------------------
# The rules are the web form's and
# PATCH /api/v1/clients/{id}'s (docs/api.md, "Edit a client").


FROM_STDIN_HELP = "read the {title} password from the next line of standard input"


def _password(portal: Portal, from_stdin: bool) -> str:
    """A password from stdin (one line each, TRACES first) or a hidden prompt, never argv:
    a flag value would stay in the shell history and in ``ps`` for anyone on the host."""
    title = PORTAL_LABELS.get(portal.value, portal.value)
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail(f"--{portal.value}-password-stdin: no line left on standard input")
        return line.rstrip("\r\n")
    return str(typer.prompt(f"{title} password", hide_input=True))


@app.command("edit")
def edit(
    tan: Annotated[str, typer.Argument(help="the client's TAN (its identity: not editable)")],
    firm: FirmOption = None,
    name: Annotated[str | None, typer.Option("--name", help="new name")] = None,
    pan: Annotated[str | None, typer.Option("--pan", help="new PAN")] = None,
    active: Annotated[
        bool | None,
        typer.Option(
            "--activate/--deactivate",
            help="an inactive client is left out of new runs and schedules",
            show_default=False,
        ),
    ] = None,
    traces_user: Annotated[
        str | None, typer.Option("--traces-user", help="new TRACES user id (asks the password)")
    ] = None,
    traces_password_stdin: Annotated[
        bool,
        typer.Option("--traces-password-stdin", help=FROM_STDIN_HELP.format(title="TRACES")),
    ] = False,
    itportal_user: Annotated[
        str | None,
        typer.Option("--itportal-user", help="new IT portal user id (asks the password)"),
    ] = None,
    itportal_password_stdin: Annotated[
        bool,
        typer.Option("--itportal-password-stdin", help=FROM_STDIN_HELP.format(title="IT portal")),
    ] = False,
    remove: Annotated[
        list[Portal] | None,
        typer.Option("--remove-credentials", help="delete a portal's stored login (repeatable)"),
    ] = None,
) -> None:
    """Edit or deactivate one client; only the options given change.

    Passwords are never option values: with --<portal>-user the password is asked
    (hidden), or read from standard input with --<portal>-password-stdin.
    """
    users = {Portal.TRACES: traces_user, Portal.ITPORTAL: itportal_user}
    from_stdin = {Portal.TRACES: traces_password_stdin, Portal.ITPORTAL: itportal_password_stdin}
    for portal, wanted in from_stdin.items():
        if wanted and users[portal] is None:
            fail(f"--{portal.value}-password-stdin needs --{portal.value}-user")
    logins = {
        portal: PortalLogin(user, _password(portal, from_stdin[portal]))
        for portal, user in users.items()
        if user is not None
    }
    patch = ClientPatch(
        name=name,
        pan=pan,
        active=active,
        set_credentials=logins,
        remove_credentials=frozenset(remove or ()),
    )
    if patch.is_empty():
        fail("nothing to change: give --name, --pan, --activate/--deactivate or credentials")
    credentials_cipher = cipher()
    with transaction() as session:
        chosen = _firm(session, firm)
        client_id = client_id_by_tan(session, chosen.id, tan)
        result = patch_client(session, chosen.id, client_id, patch, credentials_cipher)
    changes = [label for label, given in (("name", name), ("PAN", pan)) if given is not None]
    if active is not None:
        changes.append("activated" if active else "deactivated")
    changes += [f"{p.value} login set" for p in result.changed_credentials]
    changes += [f"{p.value} login removed" for p in result.removed_credentials]
    typer.echo(f"updated client {tan.strip().upper()}: {', '.join(changes)}")
