"""The composition roots: worker pools, the aggregator, ``syncbucket worker``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from typer.testing import CliRunner

from syncbucket.config import ConfigError, Settings
from syncbucket.domain.portals import Portal
from syncbucket.messaging.broker import RESULTS_QUEUE
from syncbucket_aggregator.bootstrap import bootstrap as aggregator_bootstrap
from syncbucket_cli import worker_cmd
from syncbucket_cli.main import app
from syncbucket_workers.bootstrap import bootstrap as pool_bootstrap

AMQP = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def keep_global_broker() -> Iterator[None]:
    before = dramatiq.get_broker()
    yield
    dramatiq.set_broker(before)


def test_worker_command_execs_dramatiq_on_the_portal_queue_only() -> None:
    argv = worker_cmd.dramatiq_argv(Portal.ITPORTAL, processes=2, threads=3)
    assert argv[1:] == [
        "-m",
        "dramatiq",
        "syncbucket_workers.itportal",
        "--queues",
        "portal.itportal",
        "--processes",
        "2",
        "--threads",
        "3",
    ]
    assert worker_cmd.dramatiq_argv(Portal.TRACES, None, None)[3:] == [
        "syncbucket_workers.traces",
        "--queues",
        "portal.traces",
    ]


def test_worker_command_refuses_an_unknown_portal() -> None:
    result = CliRunner().invoke(app, ["worker", "--portal", "gst"])
    assert result.exit_code == 2
    assert "unknown portal 'gst'" in result.output
    assert "traces, itportal" in result.output


def test_worker_command_replaces_itself_with_dramatiq(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda path, argv, env: seen.append((argv, env)))
    monkeypatch.setenv("SYNCBUCKET_METRICS_DIR", str(tmp_path))
    monkeypatch.setenv("SYNCBUCKET_TRACES_WORKER_METRICS_PORT", "9333")
    stale = tmp_path / "worker-traces" / "counter_123.db"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    result = CliRunner().invoke(app, ["worker", "--portal", "traces", "--threads", "4"])
    assert result.exit_code == 0, result.output
    argv, env = seen[0]
    assert argv[3:] == ["syncbucket_workers.traces", "--queues", "portal.traces", "--threads", "4"]
    directory = str((tmp_path / "worker-traces").resolve())
    assert env["PROMETHEUS_MULTIPROC_DIR"] == env["dramatiq_prom_db"] == directory
    assert env["SYNCBUCKET_METRICS_PORT"] == "9333"
    assert not stale.exists(), "the pool's directory is emptied at start"
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ, "the launcher's own env is untouched"


def test_a_separate_pool_needs_rabbitmq(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="SYNCBUCKET_BROKER_URL"):
        pool_bootstrap(Portal.TRACES, settings, configure_logs=False)


def test_a_pool_sets_the_global_broker_and_declares_its_actors(
    settings: Settings, keep_global_broker: None
) -> None:
    pool = pool_bootstrap(
        Portal.TRACES, settings.model_copy(update={"broker_url": AMQP}), configure_logs=False
    )
    assert dramatiq.get_broker() is pool.broker
    assert set(pool.broker.actors) == {"sync_traces_item", "sync_itportal_item", "record_outcome"}
    assert set(pool.deps.transports) == {"traces", "itportal"}
    assert pool.actors.sync_traces_item.options["time_limit"] == 30_000


def test_the_aggregator_starts_and_stops(settings: Settings, keep_global_broker: None) -> None:
    aggregator = aggregator_bootstrap(settings)
    aggregator.start()
    assert aggregator.worker is not None
    assert set(aggregator.worker.consumers) >= {RESULTS_QUEUE}
    assert not any(name.startswith("portal.") for name in aggregator.worker.consumers)
    aggregator.stop()
    assert aggregator.worker is None


def test_the_aggregator_process_exits_cleanly_on_sigterm(settings: Settings) -> None:
    env = {
        **os.environ,
        "SYNCBUCKET_DATABASE_URL": settings.database_url,
        "SYNCBUCKET_LOG_FORMAT": "human",
        "SYNCBUCKET_LOG_LEVEL": "INFO",
    }
    env.pop("SYNCBUCKET_BROKER_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "syncbucket_aggregator"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for_line(process, "outbox relay running", timeout=30.0)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        if process.stderr is not None:
            process.stderr.close()


def _wait_for_line(process: subprocess.Popen[str], text: str, timeout: float) -> bool:
    found = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if text in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout)
