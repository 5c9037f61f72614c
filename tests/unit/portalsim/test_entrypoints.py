"""``syncbucket serve portal-sim`` and the service entrypoint pick host and port right."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from syncbucket_cli import serve_cmd
from syncbucket_portalsim import main as service_main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr("syncbucket.portalsim.server.serve", lambda **kwargs: calls.append(kwargs))
    monkeypatch.setattr(service_main, "serve", lambda **kwargs: calls.append(kwargs))
    return calls


def test_cli_port_defaults_to_the_env(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, object]]
) -> None:
    monkeypatch.setenv("SYNCBUCKET_PORTAL_SIM_PORT", "9123")
    result = CliRunner().invoke(serve_cmd.app, ["portal-sim"])
    assert result.exit_code == 0, result.output
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 9123


def test_cli_options_win(served: list[dict[str, object]]) -> None:
    result = CliRunner().invoke(
        serve_cmd.app, ["portal-sim", "--host", "0.0.0.0", "--port", "9000"]
    )
    assert result.exit_code == 0, result.output
    assert served[0]["host"] == "0.0.0.0" and served[0]["port"] == 9000


def test_cli_refuses_a_knob_typo(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, object]]
) -> None:
    monkeypatch.setenv("SYNCBUCKET_SIM_TRACES_HTML_RATIO", "0.1")
    result = CliRunner().invoke(serve_cmd.app, ["portal-sim"])
    assert result.exit_code != 0 and not served


def test_service_main_defaults(
    monkeypatch: pytest.MonkeyPatch, served: list[dict[str, object]]
) -> None:
    monkeypatch.delenv("SYNCBUCKET_PORTAL_SIM_PORT", raising=False)
    monkeypatch.delenv("SYNCBUCKET_PORTAL_SIM_HOST", raising=False)
    service_main.main([])
    assert served[0]["host"] == "127.0.0.1" and served[0]["port"] == 8090
    service_main.main(["--host", "0.0.0.0", "--port", "8091"])
    assert served[1]["port"] == 8091
