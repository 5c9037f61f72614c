"""``syncbucket firms token create|list|revoke`` on a migrated SQLite copy."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from syncbucket.db.api_tokens import find_firm_by_token, hash_token
from syncbucket.db.firms import ApiToken
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket_cli import firms_cmd

runner = CliRunner()


@pytest.fixture
def database(
    sqlite_url: str, session_factory: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> SessionFactory:
    """Two firms, each with the token ``firms create`` printed."""
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("Acme", "Rival"):
        assert firms("create", name).exit_code == 0
    return session_factory


def firms(*args: str) -> Result:
    return runner.invoke(firms_cmd.app, list(args))


def printed_token(result: Result) -> str:
    return result.stdout.split("store it safely): ")[1].strip()


def test_create_prints_a_working_token_once_and_stores_its_hash(
    database: SessionFactory,
) -> None:
    result = firms("token", "create", "Acme", "--label", "ERP sync")
    assert result.exit_code == 0, result.output
    token = printed_token(result)
    assert token.startswith("sbk_")
    with unit_of_work(database) as session:
        firm = find_firm_by_token(session, token)
        assert firm is not None and firm.name == "Acme"
        stored = session.scalars(sa.select(ApiToken).where(ApiToken.label == "ERP sync")).one()
        assert (stored.token_hash, stored.created_by) == (hash_token(token), "cli")


def test_list_shows_id_prefix_label_and_state_but_never_the_token(
    database: SessionFactory,
) -> None:
    token = printed_token(firms("token", "create", "Acme", "--label", "ERP sync"))
    table = firms("token", "list", "Acme")
    assert table.exit_code == 0, table.output
    assert "ERP sync" in table.stdout and token[:8] in table.stdout and "live" in table.stdout
    listed = firms("token", "list", "Acme", "--json")
    rows = json.loads(listed.stdout)
    assert [r["label"] for r in rows] == ["ERP sync", None]  # newest first
    assert set(rows[0]) == {"id", "prefix", "label", "created_by", "created_at", "revoked_at"}
    assert rows[0]["prefix"] == token[:8] and rows[0]["revoked_at"] is None
    for output in (table.output, listed.output):
        assert token not in output and hash_token(token) not in output
    assert len(json.loads(firms("token", "list", "Rival", "--json").stdout)) == 1


def test_revoke_ends_the_token_and_is_scoped_to_the_firm(database: SessionFactory) -> None:
    token = printed_token(firms("token", "create", "Acme"))
    token_id = json.loads(firms("token", "list", "Acme", "--json").stdout)[0]["id"]

    other_firm = firms("token", "revoke", "Rival", str(token_id))
    assert other_firm.exit_code == 2
    assert f"no live token with id {token_id}" in other_firm.stderr
    with unit_of_work(database) as session:
        assert find_firm_by_token(session, token) is not None

    result = firms("token", "revoke", "Acme", str(token_id))
    assert result.exit_code == 0, result.output
    assert f"revoked token {token_id} of firm 'Acme'" in result.stdout
    with unit_of_work(database) as session:
        assert find_firm_by_token(session, token) is None
    assert firms("token", "revoke", "Acme", str(token_id)).exit_code == 2  # already revoked
    assert json.loads(firms("token", "list", "Acme", "--json").stdout)[0]["revoked_at"]


@pytest.mark.parametrize(
    "args", [["create", "Nobody"], ["list", "Nobody"], ["revoke", "Nobody", "1"]]
)
def test_an_unknown_firm_is_a_usage_error(database: SessionFactory, args: list[str]) -> None:
    result = firms("token", *args)
    assert result.exit_code == 2
    assert "no firm named 'Nobody'" in result.stderr
