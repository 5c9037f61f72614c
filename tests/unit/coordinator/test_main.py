"""The entrypoint as a real process on SQLite and the stub broker: start, serve, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.unit.coordinator.process import free_port, output, start_coordinator, wait_healthy

pytestmark = pytest.mark.slow


def test_serves_then_exits_0_on_sigterm(sqlite_url: str) -> None:
    port = free_port()
    env = {
        "SYNCBUCKET_DATABASE_URL": sqlite_url,
        "SYNCBUCKET_BROKER_URL": "",  # the embedded stub broker
        "SYNCBUCKET_LOG_FORMAT": "human",
    }
    process = start_coordinator(env, port)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}")
        spec = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5)
        assert spec.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        logged = output(process)
        assert "received SIGTERM" in logged and "coordinator stopped" in logged
        assert "loop dispatcher stopped" in logged and "loop reaper stopped" in logged
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_refuses_a_database_without_the_schema(tmp_path: Path) -> None:
    env = {"SYNCBUCKET_DATABASE_URL": f"sqlite:///{tmp_path}/empty.db"}
    result = subprocess.run(
        [sys.executable, "-m", "syncbucket_coordinator", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "syncbucket db upgrade" in result.stderr
