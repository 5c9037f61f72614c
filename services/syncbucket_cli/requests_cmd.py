"""``syncbucket requests send``: the reference upstream publisher on a command line.

It does what an upstream system does (docs/events.md): builds a
``syncbucket.sync.requested`` CloudEvent, signs it with the firm's integration secret,
publishes it to ``syncbucket.requests`` and prints the answer; with ``--wait`` also the
run's ``run.completed``. It needs only the broker and the secret -- not the database --
unless ``--firm`` names the firm by name instead of id.

Exit status: 0 accepted (and, with ``--wait``, completed without errors), 1 rejected or
completed with errors / cancelled, 2 bad input, 3 no answer in time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from syncbucket.clientmaster.firms import find_firm
from syncbucket.config import load_settings
from syncbucket.domain.portals import parse_module_keys
from syncbucket.intake.publisher import AnswerTimeout, RequestClient, build_request
from syncbucket.pipeline.events import SYNC_ACCEPTED
from syncbucket_cli.runtime import fail, transaction

app = typer.Typer(help="Send sync requests as an upstream system would.", no_args_is_help=True)

SECRET_ENV = "SYNCBUCKET_INTEGRATION_SECRET"  # noqa: S105 - a variable's name
NO_ANSWER = 3


@app.callback()
def _group() -> None:
    """Send sync requests as an upstream system would."""


def _firm_id(firm: str) -> int:
    if firm.isdigit():
        return int(firm)
    with transaction() as session:
        found = find_firm(session, firm)
        if found is None:
            fail(f"no firm named {firm!r}; give its name or its id")
        return found.id


def _secret(secret_file: Path | None) -> str:
    if secret_file is not None:
        try:
            return secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"cannot read the secret file {secret_file}: {exc.strerror}")
    secret = os.environ.get(SECRET_ENV, "").strip()
    if not secret:
        fail(
            f"no integration secret: set {SECRET_ENV} or pass --secret-file "
            "(syncbucket firms integration-secret NAME issues one)"
        )
    return secret


def _data(
    all_clients: bool, tans: list[str] | None, modules: str, key: str | None
) -> dict[str, Any]:
    if all_clients and tans:
        fail("choose the clients one way: --all, or --tan TAN (repeatable), not both")
    if not all_clients and not tans:
        fail("no clients chosen: add --all for every active client, or --tan TAN (repeat it)")
    try:
        chosen = (
            "all" if modules.strip() == "all" else [m.value for m in parse_module_keys(modules)]
        )
    except ValueError as exc:
        fail(str(exc))
    data: dict[str, Any] = {
        "clients": "all" if all_clients else {"tans": [t.strip().upper() for t in tans or []]},
        "modules": chosen,
        "requested_by": "syncbucket requests send",
    }
    if key is not None:
        data["idempotency_key"] = key
    return data


def _show(event: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(event))
        return
    data = event.get("data") or {}
    if event.get("type") == SYNC_ACCEPTED.type:
        verb = "created" if data.get("created") else "already existed (same idempotency key)"
        typer.echo(f"accepted: run {data.get('run_id')} {verb}, {data.get('total_items')} items")
    elif "reason" in data:
        typer.secho(f"rejected ({data['reason']}): {data.get('message')}", fg=typer.colors.RED)
    else:
        status = data.get("status")
        typer.echo(f"run {data.get('run_id')} {status}: {json.dumps(data.get('counts'))}")


@app.command("send")
def send(
    firm: Annotated[
        str, typer.Option("--firm", help="the firm's id (or its name: needs the database)")
    ],
    modules: Annotated[
        str, typer.Option("--modules", "-m", help="module keys, comma-separated, or all")
    ],
    all_clients: Annotated[bool, typer.Option("--all", help="every active client")] = False,
    tan: Annotated[list[str] | None, typer.Option("--tan", help="a client's TAN; repeat")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="same key, same run (default: the event's id and source)")
    ] = None,
    secret_file: Annotated[
        Path | None, typer.Option(help=f"file holding the secret (default: ${SECRET_ENV})")
    ] = None,
    source: Annotated[str, typer.Option(help="the CloudEvents source")] = "/syncbucket/cli",
    wait: Annotated[bool, typer.Option("--wait", help="wait for the run's run.completed")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each answer", min=1)] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the events as JSON lines")] = False,
) -> None:
    """Sign and publish a sync request; print its answer (and with --wait the run's end)."""
    data = _data(all_clients, tan, modules, idempotency_key)
    secret = _secret(secret_file)
    firm_id = _firm_id(firm)
    broker_url = load_settings().broker_url
    if broker_url is None:
        fail("SYNCBUCKET_BROKER_URL is not set: requests travel through RabbitMQ")
    event = build_request(firm_id=firm_id, data=data, secret=secret, source=source)
    try:
        with RequestClient(broker_url) as client:
            client.send(event)
            answer = client.answer(event["id"], timeout=timeout)
            _show(answer, as_json)
            if answer["type"] != SYNC_ACCEPTED.type:
                raise typer.Exit(1)
            if not wait:
                return
            completed = client.completed(int(answer["data"]["run_id"]), timeout=timeout)
            _show(completed, as_json)
            if completed["data"]["status"] != "completed":
                raise typer.Exit(1)
    except AnswerTimeout as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(NO_ANSWER) from None
