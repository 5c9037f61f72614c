"""The ``db``, ``firms`` and ``clients`` command groups, driven through typer's CliRunner."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from syncbucket.db import migrate
from syncbucket.db.api_tokens import hash_token
from syncbucket.db.engine import make_engine
from syncbucket.db.firms import ApiToken
from syncbucket_cli import clients_cmd, db_cmd, firms_cmd
from tests.support.csvfiles import MIXED_ROWS, SECRET_MARK, write_csv

runner = CliRunner()


@pytest.fixture
def database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    return sqlite_url


def firms(*args: str) -> Result:
    return runner.invoke(firms_cmd.app, list(args))


def clients(*args: str) -> Result:
    return runner.invoke(clients_cmd.app, list(args))


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", url)
    assert clients("list").exit_code == 2  # not migrated yet
    result = runner.invoke(db_cmd.app, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert f"is at revision {migrate.head_revision()}" in result.stdout
    assert runner.invoke(db_cmd.app, ["upgrade"]).exit_code == 0  # idempotent
    engine = make_engine(url)
    assert "clients" in sa.inspect(engine).get_table_names()
    engine.dispose()


def test_commands_refuse_an_unmigrated_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = firms("list")
    assert result.exit_code == 2
    assert "run `syncbucket db upgrade`" in result.stderr


def test_firms_create_prints_the_token_once_and_stores_its_hash(database: str) -> None:
    result = firms("create", "Acme & Co")
    assert result.exit_code == 0, result.output
    token = result.stdout.split("store it safely): ")[1].strip()
    assert token.startswith("sbk_")
    engine = make_engine(database)
    with engine.connect() as conn:
        stored = conn.execute(sa.select(ApiToken.token_hash)).scalars().all()
    engine.dispose()
    assert stored == [hash_token(token)]
    assert firms("create", "Acme & Co").exit_code == 2
    listed = firms("list", "--json")
    assert json.loads(listed.stdout) == [
        {"id": 1, "name": "Acme & Co", "clients": 0, "live_tokens": 1}
    ]
    assert token not in listed.output and token not in firms("list").output


def test_clients_import_reports_rows_and_never_prints_passwords(
    database: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    firms("create", "Acme")
    path = write_csv(tmp_path / "clients.csv", *MIXED_ROWS)
    result = clients("import", str(path))  # --firm omitted: the only firm
    assert result.exit_code == 1
    assert "2 imported (2 new, 0 updated), 3 rejected" in result.stdout
    assert "line 3: PAN 'ABCXB1234F' is not valid" in result.stderr
    assert "line 4: traces_password is empty but traces_user is given" in result.stderr
    assert "line 5: TAN DELA12345B already appears on line 2" in result.stderr
    again = clients("import", str(path), "--firm", "Acme")
    assert "2 imported (0 new, 2 updated), 3 rejected" in again.stdout
    listed = clients("list", "--json")
    table = clients("list")
    for text in (result.output, again.output, listed.output, table.output, caplog.text):
        assert SECRET_MARK not in text
    rows = json.loads(listed.stdout)
    assert [(r["tan"], r["portals"]) for r in rows] == [
        ("DELA12345B", ["traces", "itportal"]),
        ("MUMB54321C", []),
    ]
    assert "DELA12345B" in table.stdout and "TRACES, IT portal" in table.stdout


def test_clean_import_exits_zero(database: str, tmp_path: Path) -> None:
    firms("create", "Acme")
    path = write_csv(tmp_path / "ok.csv", MIXED_ROWS[0], MIXED_ROWS[-1])
    result = clients("import", str(path), "--firm", "Acme")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "2 imported (2 new, 0 updated), 0 rejected, 1 saved without any portal credentials"
    )
    assert "warning: line 3: no portal credentials" in result.stderr


def test_import_file_errors_exit_two(database: str, tmp_path: Path) -> None:
    firms("create", "Acme")
    bad = write_csv(tmp_path / "bad.csv", "Acme,DELA12345B", header="name,tan")
    result = clients("import", str(bad))
    assert result.exit_code == 2
    assert "missing column(s): 'pan'" in result.stderr


def test_firm_must_be_named_when_several_exist(database: str, tmp_path: Path) -> None:
    firms("create", "Acme")
    firms("create", "Bharat")
    result = clients("list")
    assert result.exit_code == 2
    assert "several firms exist" in result.stderr and "'Acme', 'Bharat'" in result.stderr
    assert "--firm" in result.stderr
    unknown = clients("list", "--firm", "Zed")
    assert unknown.exit_code == 2 and "no firm named 'Zed'" in unknown.stderr


def test_seed_demo_prints_token_once_and_is_idempotent(database: str) -> None:
    first = clients("seed-demo", "--count", "25")
    assert first.exit_code == 0, first.output
    assert "created firm 'Demo Firm'" in first.stdout and "sbk_" in first.stdout
    assert "25 demo clients created (1 with a deliberately wrong password)" in first.stdout
    second = clients("seed-demo", "--count", "25")
    assert "sbk_" not in second.stdout and "0 demo clients created" in second.stdout
    rows = json.loads(clients("list", "--json").stdout)
    assert len(rows) == 25
    assert [r["demo_note"] for r in rows if r["demo_note"]] == ["wrong traces password (demo)"]
    assert all(r["portals"] == ["traces", "itportal"] for r in rows)
    assert "Sim@" not in clients("list").output
