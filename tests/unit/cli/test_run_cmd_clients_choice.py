"""``run start``: the error says what is missing when no clients were chosen."""

from __future__ import annotations

from typer.testing import CliRunner

from syncbucket_cli.main import app


def test_no_clients_chosen_says_how_to_choose_them() -> None:
    result = CliRunner().invoke(app, ["run", "start", "--modules", "verify_ldc"])
    assert result.exit_code == 2
    assert "no clients chosen: add --all" in result.output


def test_both_ways_at_once_is_refused() -> None:
    result = CliRunner().invoke(
        app, ["run", "start", "--modules", "all", "--all", "--client", "DELA00001A"]
    )
    assert result.exit_code == 2
    assert "not both" in result.output


def test_the_help_lists_the_module_keys() -> None:
    result = CliRunner().invoke(app, ["run", "start", "--help"], env={"COLUMNS": "200"})
    assert "verify_ldc" in result.output and "notices_orders" in result.output
