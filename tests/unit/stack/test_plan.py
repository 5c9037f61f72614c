"""What ``make stack`` starts and how it prepares the environment."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from syncbucket_stack import __main__ as stack_main
from syncbucket_stack.plan import SECRET_ENV, service_specs, with_secret_key


def test_the_stack_runs_every_service_through_the_syncbucket_command() -> None:
    specs = service_specs({"X": "1"})
    commands = {s.name: s.argv[-3:] for s in specs}
    assert list(commands) == [
        "portal-sim",
        "coordinator",
        "aggregator",
        "requests",
        "worker-traces",
        "worker-itportal",
    ]
    assert commands["worker-traces"] == ("worker", "--portal", "traces")
    assert commands["coordinator"][-2:] == ("serve", "coordinator")
    assert all(s.env == {"X": "1"} for s in specs)
    assert [s.name for s in service_specs({}, frozenset({"aggregator"}))] == ["aggregator"]


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = with_secret_key({}, path)[SECRET_ENV]
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert with_secret_key({}, path)[SECRET_ENV] == first
    assert with_secret_key({SECRET_ENV: "given" * 8}, path)[SECRET_ENV] == "given" * 8


def test_the_stack_refuses_to_start_without_a_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SYNCBUCKET_BROKER_URL", raising=False)
    monkeypatch.setenv("SYNCBUCKET_LOG_FORMAT", "human")  # main() exports it
    monkeypatch.setenv("SYNCBUCKET_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert stack_main.main(["--secret-file", str(tmp_path / "key")]) == 2
    assert "SYNCBUCKET_BROKER_URL is not set" in capsys.readouterr().err
