"""``syncbucket users``: the firm's staff who sign in to the web app.

A password is never an argument (it would sit in the shell history and ``ps``): without
``--password-stdin`` a one-time password is generated and printed once, and the user
must choose their own at the first sign-in.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from syncbucket.accounts.users import (
    NewPassword,
    create_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    reset_password,
    set_role,
)
from syncbucket.clientmaster.firms import resolve_firm
from syncbucket.domain.roles import Role, parse_role
from syncbucket_cli.runtime import fail, transaction

app = typer.Typer(help="Staff accounts for the web app.", no_args_is_help=True)

EmailArgument = Annotated[str, typer.Argument(help="the user's e-mail address (signs in with it)")]
StdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="read the password from standard input"),
]
ROLE_HELP = "admin (users, client master), operator (start/cancel/re-sync), viewer (reads)"


@app.callback()
def _group() -> None:
    """Staff accounts for the web app."""


def _role(text: str) -> Role:
    try:
        return parse_role(text)
    except ValueError as exc:
        fail(str(exc))


def _password_from_stdin(wanted: bool) -> str | None:
    if not wanted:
        return None
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        fail("no password on standard input")
    return value


def _announce(made: NewPassword, verb: str) -> None:
    typer.echo(f"{verb} {made.user.email} ({made.user.role.value})")
    if made.one_time_password is not None:
        typer.echo(
            f"one-time password (shown only now; they choose their own at the first sign-in): "
            f"{made.one_time_password}"
        )


@app.command("create")
def create(
    email: EmailArgument,
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP)],
    firm: Annotated[str | None, typer.Option("--firm", help="the firm (omit if only one)")] = None,
    password_stdin: StdinOption = False,
) -> None:
    """Create a user of a firm; prints a one-time password unless --password-stdin."""
    chosen_role = _role(role)
    password = _password_from_stdin(password_stdin)
    with transaction() as session:
        made = create_user(session, resolve_firm(session, firm).id, email, chosen_role, password)
    _announce(made, "created")  # after the commit: never a password for an unsaved user


@app.command("list")
def list_(
    firm: Annotated[str | None, typer.Option("--firm", help="only this firm's users")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """List users with their firm, role and state (never a password)."""
    with transaction() as session:
        firm_id = resolve_firm(session, firm).id if firm else None
        users = list_users(session, firm_id)
    if as_json:
        rows = [
            {
                "email": u.email,
                "firm": u.firm_name,
                "role": u.role,
                "disabled": u.disabled,
                "must_change_password": u.must_change_password,
                "last_signin_at": u.last_signin_at.isoformat() if u.last_signin_at else None,
            }
            for u in users
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("E-mail", "Firm", "Role", "State", "Last sign-in (UTC)")
    for u in users:
        state = (
            "disabled" if u.disabled else "one-time password" if u.must_change_password else "ok"
        )
        seen = u.last_signin_at.strftime("%Y-%m-%d %H:%M") if u.last_signin_at else "never"
        table.add_row(u.email, u.firm_name, u.role, state, seen)
    Console().print(table)


@app.command("disable")
def disable(email: EmailArgument) -> None:
    """Stop a user signing in; their open sessions end at once."""
    with transaction() as session:
        disable_user(session, get_user(session, email))
    typer.echo(f"disabled {email.strip().lower()}")


@app.command("enable")
def enable(email: EmailArgument) -> None:
    """Let a disabled user sign in again."""
    with transaction() as session:
        enable_user(session, get_user(session, email))
    typer.echo(f"enabled {email.strip().lower()}")


@app.command("reset-password")
def reset(email: EmailArgument, password_stdin: StdinOption = False) -> None:
    """Set a new password (one-time unless --password-stdin); open sessions end."""
    password = _password_from_stdin(password_stdin)
    with transaction() as session:
        made = reset_password(session, get_user(session, email), password)
    _announce(made, "reset")  # after the commit, like create


@app.command("set-role")
def set_role_(email: EmailArgument, role: Annotated[str, typer.Argument(help=ROLE_HELP)]) -> None:
    """Change a user's role."""
    chosen = _role(role)
    with transaction() as session:
        set_role(session, get_user(session, email), chosen)
    typer.echo(f"{email.strip().lower()} is now {chosen.value}")
