"""``syncbucket run ...`` on SQLite through typer's CliRunner."""

from __future__ import annotations

import csv
import json
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import SessionFactory
from syncbucket_cli import run_cmd
from tests.unit.cli.runs_support import finish_items, seed

runner = CliRunner()
ITEMS_PER_CLIENT = 7  # six modules; notices_orders is one item per portal


def run(*args: str) -> Result:
    return runner.invoke(run_cmd.app, list(args))


@pytest.fixture
def tans(
    sqlite_url: str,
    session_factory: SessionFactory,
    cipher: CredentialCipher,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    return seed(session_factory, cipher, 5, "Acme")


def start_json(*args: str) -> dict[str, object]:
    result = run("start", *args, "--json")
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_start_all_clients_all_modules(tans: list[str]) -> None:
    created = start_json("--all", "--modules", "all")
    assert created == {"run_id": 1, "created": True, "total_items": 5 * ITEMS_PER_CLIENT}
    again = start_json("--all", "-m", "return_summary", "--idempotency-key", "k1")
    same = start_json("--all", "-m", "return_summary", "--idempotency-key", "k1")
    assert again["created"] is True and same == {**again, "created": False}


def test_start_some_clients_in_plain_text(tans: list[str]) -> None:
    result = run("start", "--client", tans[0], "-c", tans[1].lower(), "-m", "verify_ldc")
    assert result.exit_code == 0, result.output
    assert "run 1 created: 2 items" in result.stdout
    assert "syncbucket run watch 1" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--client", "X", "-m", "all"], "--all, or --client"),
        (["-m", "all"], "no clients chosen: add --all"),
        (["--all", "-m", "return_summary,bogus"], "unknown module(s) bogus"),
        (["--client", "ZZZZ99999Z", "-m", "all"], "ZZZZ99999Z"),
        (["--all", "-m", "all", "--firm", "Nobody"], "no firm named 'Nobody'"),
    ],
)
def test_bad_input_is_refused_with_status_2(tans: list[str], args: list[str], message: str) -> None:
    result = run("start", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_firm_is_required_when_several_exist(
    tans: list[str], session_factory: SessionFactory, cipher: CredentialCipher
) -> None:
    seed(session_factory, cipher, 1, "Other Firm")
    result = run("start", "--all", "-m", "all")
    assert result.exit_code == 2 and "--firm NAME" in result.stderr
    assert start_json("--all", "-m", "all", "--firm", "Other Firm")["total_items"] == 7


def test_watch_a_finished_run_prints_one_json_summary(
    tans: list[str], session_factory: SessionFactory
) -> None:
    start_json("--all", "-m", "all")
    finish_items(session_factory, 1, frozenset({tans[0]}))
    result = run("watch", "1", "--json")
    assert result.exit_code == 1  # completed with errors
    summary = json.loads(result.stdout)
    assert summary["status"] == "completed_with_errors"
    assert summary["counts"]["failed"] == ITEMS_PER_CLIENT
    assert summary["counts"]["succeeded"] + summary["counts"]["failed"] == 35
    by_portal = summary["by_portal"]
    assert sum(sum(c.values()) for c in by_portal.values()) == summary["total_items"]


def test_start_wait_follows_the_run_to_its_end(
    tans: list[str], session_factory: SessionFactory
) -> None:
    def workers() -> None:  # what the dispatcher, pools and aggregator would do
        time.sleep(0.7)
        finish_items(session_factory, 1)

    thread = threading.Thread(target=workers)
    thread.start()
    result = run("start", "--all", "-m", "return_summary,fetch_challans", "--wait", "--json")
    thread.join()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON document
    assert summary["status"] == "completed" and summary["items_done"] == 10


def test_wait_without_json_shows_the_summary_table(
    tans: list[str], session_factory: SessionFactory
) -> None:
    start_json("--all", "-m", "verify_ldc")
    finish_items(session_factory, 1, frozenset({tans[2]}))
    result = run("watch", "1")
    assert result.exit_code == 1
    assert "completed_with_errors" in result.stdout
    assert "invalid_credentials 1" in result.stdout
    assert "syncbucket run report 1 --csv" in result.stdout


def test_report_writes_the_exception_csv(
    tans: list[str], session_factory: SessionFactory, tmp_path: Path
) -> None:
    start_json("--all", "-m", "all")
    finish_items(session_factory, 1, frozenset({tans[1]}))
    target = tmp_path / "report.csv"
    result = run("report", "1", "--csv", str(target))
    assert result.exit_code == 0, result.output
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == ITEMS_PER_CLIENT
    assert {row["tan"] for row in rows} == {tans[1]}
    assert rows[0]["error_code"] == "invalid_credentials"
    assert rows[0]["message"] == "'=login rejected"  # no spreadsheet formula
    assert run("report", "1").exit_code == 0


def test_retry_failed_runs_exactly_the_failed_items(
    tans: list[str], session_factory: SessionFactory
) -> None:
    start_json("--all", "-m", "all")
    assert run("retry-failed", "1").exit_code == 2  # not finished yet
    finish_items(session_factory, 1, frozenset({tans[3]}))
    retried = runner.invoke(run_cmd.app, ["retry-failed", "1", "--json"])
    assert retried.exit_code == 0, retried.output
    assert json.loads(retried.stdout)["total_items"] == ITEMS_PER_CLIENT
    listed = json.loads(run("list", "--json").stdout)
    assert [(r["run_id"], r["source"], r["parent_run_id"]) for r in listed] == [
        (2, "retry", 1),
        (1, "cli", None),
    ]


def test_cancel_stops_a_pending_run(tans: list[str]) -> None:
    start_json("--all", "-m", "all")
    result = run("cancel", "1", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "cancelled"
    assert summary["counts"]["cancelled"] == 35


def test_unknown_run_is_a_clear_error(tans: list[str]) -> None:
    for command in ("watch", "report", "cancel", "retry-failed"):
        result = run(command, "42")
        assert result.exit_code == 2, (command, result.output)
        assert "run 42 not found" in result.stderr


def test_list_in_plain_text(tans: list[str]) -> None:
    start_json("--all", "-m", "all")
    result = run("list")
    assert result.exit_code == 0 and "Acme" in result.stdout and "pending" in result.stdout
