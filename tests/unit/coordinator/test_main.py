"""The entrypoint as a real process on SQLite: what it refuses to start with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.coordinator.process import free_port

pytestmark = pytest.mark.slow


def test_refuses_to_dispatch_into_a_broker_no_worker_can_read(sqlite_url: str) -> None:
    # (Serving and SIGTERM on a real broker: tests/integration/coordinator.)
    env = {"SYNCBUCKET_DATABASE_URL": sqlite_url, "SYNCBUCKET_BROKER_URL": ""}
    result = subprocess.run(
        [sys.executable, "-m", "syncbucket_coordinator", "--port", str(free_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "SYNCBUCKET_BROKER_URL is not set" in result.stderr
    assert "Traceback" not in result.stderr


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
