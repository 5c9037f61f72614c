"""``syncbucket demo`` end to end in a subprocess (embedded footprint, small)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CLIENTS = 20
ITEMS_PER_CLIENT = 7


def test_the_demo_syncs_everything_and_announces_the_run_once(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from syncbucket_cli.main import run; run()", "demo"]
    args = ["--clients", str(CLIENTS), "--dir", str(tmp_path), "--json", "--timeout", "150"]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=200, check=False
    )
    log = (tmp_path / "demo.log").read_text() if (tmp_path / "demo.log").exists() else ""
    assert done.returncode == 0, done.stdout + done.stderr + log[-5000:]
    result = json.loads(done.stdout)
    summary = result["summary"]
    counts = summary["counts"]
    assert summary["total_items"] == CLIENTS * ITEMS_PER_CLIENT
    assert summary["items_done"] == summary["total_items"] == sum(counts.values())
    assert counts["pending"] == counts["queued"] == counts["running"] == 0
    for breakdown in (summary["by_module"], summary["by_portal"]):
        assert sum(sum(c.values()) for c in breakdown.values()) == summary["total_items"]
    assert summary["status"] in {"completed", "completed_with_errors"}
    assert result["run_completed_events"] == 1
    assert result["failed_items"] == counts["failed"] >= 1  # one client has wrong credentials
    report = (tmp_path / "demo-report.csv").read_text().splitlines()
    assert len(report) == counts["failed"] + 1
    lines = (tmp_path / "demo-events.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    by_type: dict[str, list[dict[str, object]]] = {}
    for event in events:
        by_type.setdefault(str(event["type"]), []).append(event)
    (completed,) = by_type["syncbucket.run.completed"]
    (started,) = by_type["syncbucket.run.started"]
    assert completed["data"]["run_id"] == started["data"]["run_id"] == summary["run_id"]  # type: ignore[index]
    assert len(by_type["syncbucket.run.progress"]) >= 3  # each quarter at least
    assert by_type["syncbucket.client.changed"]  # a first sync finds everything new
