"""``syncbucket run ...``: start, watch, report, retry, cancel and list runs.

These commands work on the database through the pipeline library; the coordinator's
dispatcher (``syncbucket serve coordinator``) releases the items to the worker pools.
Exit status of a command that waits for a run: 0 completed, 1 completed with errors or
cancelled, 2 bad input, 130 interrupted (the run itself continues).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from syncbucket.db.base import utcnow
from syncbucket.domain.portals import ModuleKey, parse_module_keys
from syncbucket.domain.runs import RunSource, RunStatus
from syncbucket.pipeline.queries import exception_rows, list_runs, run_summary
from syncbucket.pipeline.report_csv import write_exception_csv
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import CreatedRun, cancel_run, create_run, retry_failed
from syncbucket.pipeline.views import RunSummary
from syncbucket_cli.progress import follow
from syncbucket_cli.run_views import (
    error_counts,
    exceptions_view,
    runs_view,
    summary_view,
)
from syncbucket_cli.rundb import FirmDatabase, firm_database, requested_by
from syncbucket_cli.runtime import fail

app = typer.Typer(help="Start, watch and report sync runs.", no_args_is_help=True)

FirmOption = Annotated[
    str | None, typer.Option("--firm", help="firm name (may be omitted when only one exists)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON only")]
WaitOption = Annotated[
    bool, typer.Option("--wait", help="show live progress until the run ends, then the summary")
]
RunId = Annotated[int, typer.Argument(min=1, help="the run's id")]
INTERRUPTED = 130


@app.callback()
def _group() -> None:
    """Start, watch and report sync runs."""


def parse_modules(text: str) -> list[ModuleKey]:
    try:
        return parse_module_keys(text)
    except ValueError as exc:
        fail(str(exc))


def selection(all_clients: bool, tans: list[str] | None) -> list[str] | None:
    """None = every active client; else the TANs given. Exactly one of the two."""
    if all_clients and tans:
        fail("choose the clients one way: --all, or --client TAN (repeatable), not both")
    if not all_clients and not tans:
        fail("no clients chosen: add --all for every active client, or --client TAN (repeat it)")
    return None if all_clients else [tan.strip().upper() for tan in tans or []]


@app.command("start")
def start(
    modules: Annotated[
        str,
        typer.Option(
            "--modules",
            "-m",
            help=f"module keys, comma-separated, or all: {', '.join(k.value for k in ModuleKey)}",
        ),
    ],
    all_clients: Annotated[bool, typer.Option("--all", help="every active client")] = False,
    client: Annotated[list[str] | None, typer.Option("--client", "-c", help="TAN; repeat")] = None,
    firm: FirmOption = None,
    idempotency_key: Annotated[str | None, typer.Option(help="same key, same run")] = None,
    wait: WaitOption = False,
    as_json: JsonOption = False,
) -> None:
    """Start a run of the chosen modules for all active clients or the TANs given."""
    keys, tans = parse_modules(modules), selection(all_clients, client)
    with firm_database(firm) as db:
        request = RunRequest(
            firm_id=db.firm_id,
            modules=keys,
            tans=tans,
            source=RunSource.CLI,
            idempotency_key=idempotency_key,
            requested_by=requested_by(),
        )
        with db.transaction() as session:
            created = create_run(session, request)
        announce(created, as_json, wait)
        if wait:
            finish(db, created.run_id, as_json)


def announce(created: CreatedRun, as_json: bool, wait: bool) -> None:
    if as_json:
        if not wait:
            typer.echo(json.dumps(created_dict(created)))
        return
    verb = "created" if created.created else "already exists (same idempotency key)"
    typer.echo(f"run {created.run_id} {verb}: {created.total_items} items")
    if not wait:
        typer.echo(f"follow it with: syncbucket run watch {created.run_id}")


def created_dict(created: CreatedRun) -> dict[str, object]:
    return {
        "run_id": created.run_id,
        "created": created.created,
        "total_items": created.total_items,
    }


def fetch_summary(db: FirmDatabase, run_id: int) -> RunSummary:
    with db.transaction() as session:
        return run_summary(session, db.firm_id, run_id)


def finish(db: FirmDatabase, run_id: int, as_json: bool) -> None:
    """Follow the run to its end, print the summary, exit with the run's status."""
    try:
        summary = follow(lambda: fetch_summary(db, run_id), None if as_json else Console())
    except KeyboardInterrupt:
        typer.echo(
            f"stopped watching; run {run_id} goes on: syncbucket run watch {run_id}", err=True
        )
        raise typer.Exit(INTERRUPTED) from None
    show_summary(db, summary, as_json)
    raise typer.Exit(0 if summary.status == RunStatus.COMPLETED.value else 1)


def show_summary(db: FirmDatabase, summary: RunSummary, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
        return
    with db.transaction() as session:
        rows = exception_rows(session, db.firm_id, summary.run_id)
    Console().print(summary_view(summary, error_counts(rows)))
    if rows:
        typer.echo(f"exception report: syncbucket run report {summary.run_id} --csv FILE")


@app.command("watch")
def watch(run_id: RunId, firm: FirmOption = None, as_json: JsonOption = False) -> None:
    """Live progress of a run until it ends, then its summary."""
    with firm_database(firm) as db:
        fetch_summary(db, run_id)  # unknown run: a clear error before the display starts
        finish(db, run_id, as_json)


@app.command("report")
def report(
    run_id: RunId,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write the report here")] = None,
    firm: FirmOption = None,
) -> None:
    """The exception report: every failed item with its error code, message and attempts."""
    with firm_database(firm) as db, db.transaction() as session:
        rows = exception_rows(session, db.firm_id, run_id)
    if csv_file is None:
        Console().print(exceptions_view(run_id, rows))
        return
    with csv_file.open("w", newline="", encoding="utf-8") as stream:
        written = write_exception_csv(rows, stream)
    typer.echo(f"{written} failed items written to {csv_file}")


@app.command("retry-failed")
def retry_failed_(
    run_id: RunId, firm: FirmOption = None, wait: WaitOption = False, as_json: JsonOption = False
) -> None:
    """Start a new run (source retry) of exactly the failed items of a finished run."""
    with firm_database(firm) as db:
        with db.transaction() as session:
            created = retry_failed(session, db.firm_id, run_id, requested_by(), utcnow())
        announce(created, as_json, wait)
        if wait:
            finish(db, created.run_id, as_json)


@app.command("cancel")
def cancel(run_id: RunId, firm: FirmOption = None, as_json: JsonOption = False) -> None:
    """Stop releasing a run's items; pending ones are cancelled, in-flight ones finish."""
    with firm_database(firm) as db:
        with db.transaction() as session:
            cancel_run(session, db.firm_id, run_id, utcnow())
        summary = fetch_summary(db, run_id)
    if as_json:
        typer.echo(json.dumps(summary.to_dict()))
        return
    open_items = summary.total_items - summary.items_done
    typer.echo(f"run {run_id}: cancel requested; status {summary.status}, {open_items} in flight")


@app.command("list")
def list_(
    firm: FirmOption = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="how many")] = 20,
    as_json: JsonOption = False,
) -> None:
    """The firm's most recent runs, newest first."""
    with firm_database(firm) as db, db.transaction() as session:
        page = list_runs(session, db.firm_id, limit=limit)
    if as_json:
        typer.echo(json.dumps([run.to_dict() for run in page.runs], indent=2))
        return
    Console().print(runs_view(db.firm_name, page.runs))
