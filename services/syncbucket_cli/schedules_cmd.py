"""``syncbucket schedules ...``: a firm's periodic syncs -- add, list, pause, resume, remove.

These commands change the schedules in the database; the leader coordinator fires them
(``docs/schedules.md``). Times are shown on each schedule's own clock (its time zone).
A bad value is one line naming the field and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from syncbucket.db.base import utcnow
from syncbucket.db.schedules import DEFAULT_TIME_ZONE
from syncbucket.schedules.cron import parse_time_zone
from syncbucket.schedules.errors import InvalidSchedule, ScheduleError
from syncbucket.schedules.manage import (
    add_schedule,
    pause_schedule,
    remove_schedule,
    resume_schedule,
)
from syncbucket.schedules.spec import schedule_spec
from syncbucket.schedules.views import FireView, ScheduleView, list_schedules, schedule_id_named
from syncbucket_cli.rundb import FirmDatabase, firm_database, requested_by
from syncbucket_cli.runtime import fail

app = typer.Typer(help="Periodic syncs of a firm's clients.", no_args_is_help=True)

FirmOption = Annotated[
    str | None, typer.Option("--firm", help="firm name (may be omitted when only one exists)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON only")]
NameArgument = Annotated[str, typer.Argument(help="the schedule's name")]
NEXT_SHOWN = 3
FIRES_SHOWN = 3
OUTCOME_WORDS = {
    "started": "started",
    "skipped_running": "skipped",
    "skipped_misfire": "skipped",
    "refused": "refused",
}


@app.callback()
def _group() -> None:
    """Periodic syncs of a firm's clients."""


@contextmanager
def _firm(firm: str | None) -> Iterator[FirmDatabase]:
    """The firm's database; a schedule the library refuses is one line and status 2."""
    with firm_database(firm) as db:
        try:
            yield db
        except ScheduleError as exc:
            fail(str(exc))


def _client_filter(all_clients: bool, filter_json: str | None) -> dict[str, Any] | None:
    """None = every active client; else the filter's fields. Exactly one of the two."""
    if all_clients == (filter_json is not None):
        fail("choose the clients: --all, or --filter JSON (a Client Master filter), not both")
    if filter_json is None:
        return None
    try:
        fields = json.loads(filter_json)
    except json.JSONDecodeError as exc:
        fail(f"--filter: not valid JSON ({exc.msg}), e.g. '{{\"failed_last_time\": true}}'")
    if not isinstance(fields, dict):
        fail("--filter: expected a JSON object of filter fields, e.g. '{\"never_synced\": true}'")
    return fields


@app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="unique within the firm")],
    cron: Annotated[
        str, typer.Option("--cron", help='minute hour day month weekday, e.g. "0 2 * * *"')
    ],
    modules: Annotated[
        str, typer.Option("--modules", "-m", help="module keys, comma-separated, or all")
    ],
    all_clients: Annotated[
        bool, typer.Option("--all", help="every active client when it fires")
    ] = False,
    filter_json: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="a Client Master filter as JSON, e.g. '{\"failed_last_time\": true}'",
        ),
    ] = None,
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="IANA time zone the cron is read in")
    ] = DEFAULT_TIME_ZONE,
    priority: Annotated[
        int | None, typer.Option("--priority", help="0..10, higher first; default 0")
    ] = None,
    paused: Annotated[bool, typer.Option("--paused", help="add it paused")] = False,
    firm: FirmOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a schedule: a sync of the chosen clients and modules at every cron instant."""
    chosen = _client_filter(all_clients, filter_json)
    keys = [part.strip() for part in modules.split(",")]
    try:
        spec = schedule_spec(
            name=name,
            cron=cron,
            time_zone=time_zone,
            client_filter=chosen,
            modules=keys,
            priority=priority,
        )
    except InvalidSchedule as exc:
        fail(str(exc))
    with _firm(firm) as db, db.transaction() as session:
        made = add_schedule(
            session,
            db.firm_id,
            spec,
            created_by=requested_by(),
            now=utcnow(),
            active=not paused,
        )
    if as_json:
        typer.echo(json.dumps(made.to_dict(), indent=2))
        return
    typer.echo(f"schedule {made.name!r} added: {_what(made)}")
    if paused:
        typer.echo(f"paused: resume it with: syncbucket schedules resume {made.name!r}")
        return
    upcoming = islice(spec.recurrence.instants(utcnow()), NEXT_SHOWN)
    typer.echo("next fires: " + ", ".join(_when(i, made.time_zone) for i in upcoming))


@app.command("list")
def list_(firm: FirmOption = None, as_json: JsonOption = False) -> None:
    """The firm's schedules: when, what, the next fire and the last fires' outcomes."""
    with _firm(firm) as db, db.transaction() as session:
        shown = list_schedules(session, db.firm_id)
    if as_json:
        typer.echo(json.dumps([view.to_dict() for view in shown], indent=2))
        return
    table = Table(title=f"{db.firm_name}: {len(shown)} schedules")
    for column in ("Name", "When", "Clients and modules", "Next fire", "Last fires"):
        table.add_column(column, ratio=2 if column == "Last fires" else 1)
    for view in shown:
        next_fire = _when(view.next_fire_at, view.time_zone) if view.active else "paused"
        fires = "\n".join(_fire(fire, view.time_zone) for fire in view.recent_fires[:FIRES_SHOWN])
        table.add_row(
            view.name,
            f"{view.cron} ({view.time_zone})",
            _what(view, with_when=False),
            next_fire,
            fires or "never fired",
        )
    Console().print(table)


@app.command("pause")
def pause(name: NameArgument, firm: FirmOption = None) -> None:
    """Stop firing until resumed (a run already started goes on)."""
    with _firm(firm) as db, db.transaction() as session:
        pause_schedule(session, db.firm_id, schedule_id_named(session, db.firm_id, name), utcnow())
    typer.echo(f"schedule {name!r} paused")


@app.command("resume")
def resume(name: NameArgument, firm: FirmOption = None) -> None:
    """Fire again from the next instant (instants passed while paused are not caught up)."""
    with _firm(firm) as db, db.transaction() as session:
        schedule_id = schedule_id_named(session, db.firm_id, name)
        view = resume_schedule(session, db.firm_id, schedule_id, utcnow())
    typer.echo(f"schedule {name!r} resumed: next fire {_when(view.next_fire_at, view.time_zone)}")


@app.command("remove")
def remove(name: NameArgument, firm: FirmOption = None) -> None:
    """Remove a schedule and its fire history; the runs it started stay."""
    with _firm(firm) as db, db.transaction() as session:
        remove_schedule(session, db.firm_id, schedule_id_named(session, db.firm_id, name))
    typer.echo(f"schedule {name!r} removed")


def _what(view: ScheduleView, *, with_when: bool = True) -> str:
    modules = "all modules" if view.modules == "all" else ", ".join(view.modules)
    what = f"{view.clients_described} x {modules}"
    if view.effective_priority != 0:
        what += f", priority {view.effective_priority}"
    return f"{view.cron} ({view.time_zone}), {what}" if with_when else what


def _when(moment: datetime | None, time_zone: str) -> str:
    if moment is None:
        return "-"
    try:
        local = moment.astimezone(parse_time_zone(time_zone))
    except InvalidSchedule:
        local = moment
    return local.strftime("%d %b %Y %H:%M ") + (local.tzname() or time_zone)


def _fire(fire: FireView, time_zone: str) -> str:
    words = f"{_when(fire.fire_time, time_zone)}: {OUTCOME_WORDS.get(fire.outcome, fire.outcome)}"
    if fire.run_id is not None:
        return f"{words} (run {fire.run_id})"
    return f"{words} ({fire.reason})" if fire.reason else words
