"""``syncbucket demo``: the whole sync embedded in one process (see :mod:`.embedded`).

Seeds demo clients, starts a run of all six modules, shows live progress, then the
summary, the ``run.completed`` events published (exactly one) and the exception report.
Exit status 0 when the run ended and exactly one ``run.completed`` event went out.

On a terminal (or with ``--serve``) the demo then keeps the embedded footprint running
with the web app on it: it prints the address and a demo sign-in, and stops on Ctrl-C.
Off a terminal (CI, pipes) it exits as before.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from syncbucket.accounts.users import create_user, find_user, reset_password
from syncbucket.clientmaster.seed import seed_demo
from syncbucket.db.engine import make_engine
from syncbucket.db.session import make_session_factory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.roles import Role
from syncbucket.domain.runs import RunSource
from syncbucket.embedded import LIGHT_FAULTS, DemoPaths, Embedded, embedded
from syncbucket.pipeline.events import RUN_COMPLETED_TYPE
from syncbucket.pipeline.queries import exception_rows, run_summary
from syncbucket.pipeline.report_csv import write_exception_csv
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from syncbucket.pipeline.views import ExceptionRow, RunSummary
from syncbucket_cli.progress import PORTAL_LABELS, RunTimedOut, follow
from syncbucket_cli.run_views import error_counts, summary_view
from syncbucket_cli.runtime import fail

app = typer.Typer()
EVENT_WAIT_SECONDS = 15.0
DEMO_USER = "demo@syncbucket.example"


def started_run(system: Embedded, clients: int) -> tuple[int, int]:
    """Seed the demo clients and start a run of all modules: (firm id, run id)."""
    with unit_of_work(system.sessions) as session:
        seeded = seed_demo(session, clients, system.cipher)
        request = RunRequest(
            firm_id=seeded.firm.id,
            modules=list(ModuleKey),
            source=RunSource.CLI,
            requested_by="demo",
        )
        return seeded.firm.id, create_run(session, request).run_id


def completed_events(system: Embedded, run_id: int) -> int:
    """How many ``run.completed`` events for the run the relay published."""
    return sum(
        1
        for _key, event in system.events.events
        if event.get("type") == RUN_COMPLETED_TYPE and event["data"].get("run_id") == run_id
    )


def settle_events(system: Embedded, run_id: int) -> int:
    """Wait for the relay to publish the completion, then stop it and count once more."""
    deadline = time.monotonic() + EVENT_WAIT_SECONDS
    while completed_events(system, run_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    system.relay.stop()
    system.relay.drain()  # nothing may be left behind in the outbox
    return completed_events(system, run_id)


def write_report(system: Embedded, firm_id: int, run_id: int, path: Path) -> list[ExceptionRow]:
    with unit_of_work(system.sessions) as session:
        rows = exception_rows(session, firm_id, run_id)
    with path.open("w", newline="", encoding="utf-8") as stream:
        write_exception_csv(rows, stream)
    return rows


def fetch(system: Embedded, firm_id: int, run_id: int) -> RunSummary:
    with unit_of_work(system.sessions) as session:
        return run_summary(session, firm_id, run_id)


def configure_logging(path: Path) -> None:
    """The workers' logs go to a file: the terminal is for the progress display."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise


@dataclass(frozen=True)
class DemoResult:
    summary: RunSummary
    events: int
    failures: list[ExceptionRow]
    seconds: float
    portals: dict[str, dict[str, Any]]  # the simulator's /admin/stats per portal
    firm_id: int = 0
    secret_key: str = field(default="", repr=False)  # the demo database's credential key


def run_demo(
    paths: DemoPaths, clients: int, threads: int, console: Console | None, timeout: float
) -> DemoResult:
    started = time.monotonic()
    faults = LIGHT_FAULTS
    with embedded(paths, threads=threads, faults=faults) as system:
        firm_id, run_id = started_run(system, clients)
        summary = follow(lambda: fetch(system, firm_id, run_id), console, timeout=timeout)
        events = settle_events(system, run_id)
        failures = write_report(system, firm_id, run_id, paths.report)
        portals = system.simulator.stats()["portals"]
        key = system.settings.require_secret_key()
    took = time.monotonic() - started
    return DemoResult(summary, events, failures, took, portals, firm_id, key)


def portal_traffic(portals: dict[str, dict[str, Any]]) -> str:
    parts = []
    for portal, stats in portals.items():
        errors = sum(n for status, n in stats["responses"].items() if status.startswith("5"))
        parts.append(
            f"{PORTAL_LABELS.get(portal, portal)} {stats['requests']['total']} requests "
            f"({errors} 5xx, {stats['rate_limited']} 429, "
            f"{stats['logins']['rejected']} logins rejected)"
        )
    return "; ".join(parts)


def show(result: DemoResult, paths: DemoPaths, console: Console) -> None:
    console.print(summary_view(result.summary, error_counts(result.failures)))
    mark = "[green]exactly one[/]" if result.events == 1 else f"[red]{result.events}[/]"
    console.print(f"run.completed events published: {mark} (written to {paths.events})")
    console.print(f"portal simulator: {portal_traffic(result.portals)}")
    console.print(f"exception report: {paths.report} ({len(result.failures)} failed items)")
    console.print(f"worker logs: {paths.log}")
    console.print(f"finished in {result.seconds:.1f}s")


def as_document(result: DemoResult, paths: DemoPaths) -> dict[str, object]:
    return {
        "summary": result.summary.to_dict(),
        "run_completed_events": result.events,
        "failed_items": len(result.failures),
        "report": str(paths.report),
        "events_file": str(paths.events),
        "seconds": round(result.seconds, 2),
        "portals": result.portals,
    }


@app.callback(invoke_without_command=True)
def demo(
    clients: Annotated[
        int, typer.Option("--clients", min=1, max=10_000, help="demo clients")
    ] = 300,
    threads: Annotated[int, typer.Option(min=1, max=64, help="worker threads")] = 12,
    directory: Annotated[
        Path, typer.Option("--dir", help="for the database, events, report")
    ] = Path("var"),
    as_json: Annotated[bool, typer.Option("--json", help="no display; one JSON object")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="give up after this many seconds")] = 600,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="keep serving the web app afterwards (default: when on a terminal)",
        ),
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="web app port (0: any free)")] = 8080,
) -> None:
    """Run a whole sync embedded: SQLite, stub broker, in-process simulator, demo clients."""
    paths = DemoPaths(directory)
    configure_logging(paths.log)
    console = Console()
    if not as_json:
        console.print(
            f"[bold]SyncBucket demo[/]: {clients} clients x {len(ModuleKey)} modules, embedded "
            f"(SQLite {paths.database}, stub broker, portal simulator with light faults)"
        )
    try:
        result = run_demo(paths, clients, threads, None if as_json else console, timeout)
    except RunTimedOut as exc:
        fail(f"{exc}; the logs in {paths.log} say why", code=1)
    if as_json:
        typer.echo(json.dumps(as_document(result, paths)))
    else:
        show(result, paths, console)
    if serve if serve is not None else (console.is_terminal and not as_json):
        serve_web(result, paths, port, console)
    raise typer.Exit(0 if result.events == 1 else 1)


def serve_web(result: DemoResult, paths: DemoPaths, port: int, console: Console) -> NoReturn:
    """Sign-in for the demo, then become the coordinator on the embedded footprint."""
    password = secrets.token_urlsafe(12)
    engine = make_engine(f"sqlite:///{paths.database}")
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            found = find_user(session, DEMO_USER)
            if found is None:
                create_user(session, result.firm_id, DEMO_USER, Role.ADMIN, password)
            else:
                reset_password(session, found, password)
    finally:
        engine.dispose()
    chosen = port if port and port_free(port) else free_port()
    console.print(
        f"\n[bold]Web app[/]: http://127.0.0.1:{chosen}/  sign in as [bold]{DEMO_USER}[/] "
        f"with password [bold]{password}[/]\n(the embedded system keeps running; Ctrl-C stops it)"
    )
    env = {
        **os.environ,
        "SYNCBUCKET_SECRET_KEY": result.secret_key,
        "SYNCBUCKET_LOG_FORMAT": "human",
        "SYNCBUCKET_LOG_LEVEL": "WARNING",
    }
    sys.stdout.flush()
    command = [sys.executable, "-m", "syncbucket_coordinator", "--embedded", str(paths.root)]
    os.execve(sys.executable, [*command, "--port", str(chosen)], env)  # noqa: S606 - fixed argv


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        found: int = probe.getsockname()[1]
        return found
