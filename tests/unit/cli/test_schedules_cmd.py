"""``syncbucket schedules ...`` on SQLite through typer's CliRunner."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner, Result

from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import SessionFactory
from syncbucket.schedules.firing import fire_due_schedules
from syncbucket_cli import schedules_cmd
from syncbucket_cli.main import app as syncbucket
from tests.unit.cli.runs_support import seed

runner = CliRunner()
NIGHTLY = ["--name", "nightly", "--cron", "0 2 * * *", "--all", "--modules", "all"]


def schedules(*args: str) -> Result:
    return runner.invoke(schedules_cmd.app, list(args))


@pytest.fixture
def tans(
    sqlite_url: str,
    session_factory: SessionFactory,
    cipher: CredentialCipher,
    monkeypatch: pytest.MonkeyPatch,
) -> list[str]:
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "250")  # rich's table: no wrapped reasons
    return seed(session_factory, cipher, 3, "Acme")


def listed() -> list[dict[str, object]]:
    result = schedules("list", "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.stdout)
    return found


def test_add_prints_what_and_when_on_the_schedules_clock(tans: list[str]) -> None:
    result = schedules("add", *NIGHTLY)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "schedule 'nightly' added: 0 2 * * * (Asia/Kolkata), all active clients x all modules"
    )
    assert lines[1].startswith("next fires: ") and lines[1].count("02:00 IST") == 3


def test_add_by_filter_in_another_time_zone_as_json(tans: list[str]) -> None:
    result = schedules(
        "add",
        "--firm",
        "Acme",
        "--name",
        "failed ldc",
        "--cron",
        "30 7 * * 1-5",
        "--time-zone",
        "Europe/London",
        "--filter",
        '{"failed_last_time": true, "module": "verify_ldc"}',
        "-m",
        "verify_ldc,return_summary",
        "--priority",
        "4",
        "--json",
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout)
    assert made["clients"] == {"filter": {"failed_last_time": True, "module": "verify_ldc"}}
    assert made["modules"] == ["return_summary", "verify_ldc"] and made["priority"] == 4
    assert made["created_by"].startswith("cli")
    local = datetime.fromisoformat(made["next_fire_local"])
    assert (local.hour, local.minute) == (7, 30) and local.weekday() < 5


def test_list_shows_next_fire_and_the_last_outcomes(
    tans: list[str], session_factory: SessionFactory
) -> None:
    assert schedules("add", *NIGHTLY).exit_code == 0
    filtered = ["--name", "nobody", "--cron", "0 2 * * *", "-m", "verify_ldc"]
    assert schedules("add", *filtered, "--filter", '{"search": "Nobody"}').exit_code == 0
    (due,) = {datetime.fromisoformat(str(s["next_fire_at"])) for s in listed()}
    report = fire_due_schedules(session_factory, due, grace=timedelta(hours=1))
    assert sorted(f.outcome.value for f in report.fires) == ["refused", "started"]
    result = schedules("list")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Acme: 2 schedules" in text
    assert "0 2 * * * (Asia/Kolkata)" in text and "IST" in text
    assert f"started (run {report.run_ids[0]})" in text
    assert "refused (no active client matches the filter" in text
    by_name = {s["name"]: s for s in listed()}
    assert by_name["nightly"]["last_run_id"] == report.run_ids[0]
    assert by_name["nobody"]["recent_fires"][0]["outcome"] == "refused"  # type: ignore[index]


def test_pause_resume_remove_by_name(tans: list[str]) -> None:
    assert schedules("add", *NIGHTLY).exit_code == 0
    paused = schedules("pause", "nightly")
    assert paused.exit_code == 0 and paused.stdout.strip() == "schedule 'nightly' paused"
    (shown,) = listed()
    assert shown["active"] is False and shown["next_fire_at"] is None
    assert "paused" in schedules("list").stdout
    resumed = schedules("resume", "nightly")
    assert (
        resumed.exit_code == 0 and "next fire" in resumed.stdout and "02:00 IST" in resumed.stdout
    )
    removed = schedules("remove", "nightly")
    assert removed.exit_code == 0 and listed() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "n", "--cron", "0 2 * * *", "-m", "all"], "--all, or --filter JSON"),
        (
            ["--name", "n", "--cron", "0 2 * * *", "-m", "all", "--all", "--filter", "{}"],
            "not both",
        ),
        (["--name", "n", "--cron", "0 2 * *", "--all", "-m", "all"], "cron: expected 5 fields"),
        (["--name", "n", "--cron", "0 2 31 2 *", "--all", "-m", "all"], "cron: '0 2 31 2 *' never"),
        (
            ["--name", "n", "--cron", "0 2 * * *", "--all", "-m", "all", "--time-zone", "IST"],
            "time_zone: unknown time zone 'IST'",
        ),
        (["--name", "n", "--cron", "0 2 * * *", "--all", "-m", "challans"], "modules: unknown"),
        (
            ["--name", "n", "--cron", "0 2 * * *", "-m", "all", "--filter", "{bad json"],
            "--filter: not valid JSON",
        ),
        (
            ["--name", "n", "--cron", "0 2 * * *", "-m", "all", "--filter", '{"days": 3}'],
            "filter.days: unknown filter",
        ),
        (
            ["--name", "n", "--cron", "0 2 * * *", "-m", "all", "--filter", "[1]"],
            "--filter: expected a JSON object",
        ),
        (
            ["--name", "n", "--cron", "0 2 * * *", "--all", "-m", "all", "--priority", "99"],
            "priority: expected 0..10",
        ),
        (["--name", " ", "--cron", "0 2 * * *", "--all", "-m", "all"], "name: give the"),
        (
            ["--name", "n", "--cron", "0 2 * * *", "--all", "-m", "all", "--firm", "Nobody"],
            "no firm named 'Nobody'",
        ),
    ],
)
def test_bad_input_is_one_line_and_status_2(tans: list[str], args: list[str], message: str) -> None:
    result = schedules("add", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_a_taken_name_and_an_unknown_schedule_are_one_line(tans: list[str]) -> None:
    assert schedules("add", *NIGHTLY).exit_code == 0
    taken = schedules("add", *NIGHTLY)
    assert taken.exit_code == 2
    assert taken.stderr.strip() == (
        "error: name: a schedule named 'nightly' already exists: choose another name"
    )
    for verb in ("pause", "resume", "remove"):
        missing = schedules(verb, "weekly")
        assert missing.exit_code == 2
        assert missing.stderr.strip() == "error: schedule named 'weekly' not found"


def test_the_group_is_registered_on_the_syncbucket_command(tans: list[str]) -> None:
    result = runner.invoke(syncbucket, ["schedules", "add", *NIGHTLY])
    assert result.exit_code == 0, result.output
    assert runner.invoke(syncbucket, ["schedules", "--help"]).exit_code == 0
