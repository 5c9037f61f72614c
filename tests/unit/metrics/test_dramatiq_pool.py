"""A real ``dramatiq`` CLI pool (2 processes) serves both metric families on one port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.prometheus import free_port

POOL_MODULE = """
import dramatiq
from dramatiq.brokers.stub import StubBroker

from syncbucket.metrics import record
from syncbucket.metrics.dramatiq_mw import install_dramatiq_metrics

broker = StubBroker()
dramatiq.set_broker(broker)
install_dramatiq_metrics(broker)
record.ratelimit_rates("traces", 5.0, 5.0)
record.item_finished("traces", "return_summary", "succeeded")


@dramatiq.actor(queue_name="portal.traces")
def sync_traces_item() -> None:
    pass


sync_traces_item.send()  # each process's stub broker holds one message for itself
"""


def scrape(port: int, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                body: str = r.read().decode()
            if 'dramatiq_messages_total{actor_name="sync_traces_item",' in body:
                return body
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("the pool never served its metrics (see pool.log)")
        time.sleep(0.2)


@pytest.mark.slow
def test_pool_serves_syncbucket_and_dramatiq_metrics(tmp_path: Path) -> None:
    (tmp_path / "sb_test_pool.py").write_text(textwrap.dedent(POOL_MODULE))
    port = free_port()
    directory = tmp_path / "metrics"
    directory.mkdir()
    env = {  # what the launcher sets (prepare_multiprocess_dir) before exec'ing dramatiq
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "dramatiq_prom_db": str(directory),
        "SYNCBUCKET_METRICS_PORT": str(port),
    }
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    pool = subprocess.Popen(  # the dramatiq CLI, as `syncbucket worker` runs it
        [sys.executable, "-m", "dramatiq", "sb_test_pool", "--processes", "2", "--threads", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "pool.log").open("wb"),
        start_new_session=True,
    )
    try:
        body = scrape(port, time.monotonic() + 30)
    finally:
        pool.send_signal(signal.SIGTERM)  # graceful: workers finish, the fork exits
        try:
            pool.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(pool.pid, signal.SIGKILL)
            pool.wait()
    assert (
        'syncbucket_items_processed_total{error_code="none",module="return_summary",'
        'outcome="succeeded",' in body
    )
    line = next(x for x in body.splitlines() if x.startswith("syncbucket_items_processed_total{"))
    assert line.endswith(" 2.0"), "two worker processes, summed"
    assert 'syncbucket_ratelimit_limit_per_second{portal="traces"} 5.0' in body
    labels = 'actor_name="sync_traces_item",queue_name="portal.traces"'
    assert f"dramatiq_messages_total{{{labels}}} 2.0" in body
    assert len(list(directory.glob("counter_*.db"))) == 2
