"""Multi-process mode: processes of one pool write one directory; /metrics adds them up.

Each scenario runs in fresh interpreters, because prometheus_client chooses its value
storage when it is first imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

from syncbucket.metrics import serve_metrics
from syncbucket.metrics.serve import exposition_registry

ROOT = Path(__file__).resolve().parents[3]


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_MULTIPROC_DIR"}}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


WRITER = """
from syncbucket.metrics import prepare_multiprocess_dir
prepare_multiprocess_dir({directory!r}, clear=False)
from syncbucket.metrics import record
for _ in range(3):
    record.item_finished("traces", "return_summary", "succeeded")
record.ratelimit_rates("traces", 5.0, {effective})
record.outbox_state(pending={pending}, oldest_pending_age_seconds=1.0)
"""


def sample(directory: Path, name: str, labels: dict[str, str] | None = None) -> float | None:
    registry = exposition_registry(directory)
    return registry.get_sample_value(name, labels or {})  # type: ignore[attr-defined]


def test_importing_the_package_does_not_import_prometheus_client() -> None:
    out = run_python(
        "import sys, syncbucket.metrics, syncbucket.metrics.record;"
        "print('prometheus_client' in sys.modules)"
    )
    assert out.strip() == "False"


def test_two_processes_aggregate_in_one_directory(tmp_path: Path) -> None:
    directory = tmp_path / "pool"
    directory.mkdir()
    (directory / "gauge_mostrecent_999999.db").write_bytes(b"")  # left by an earlier pool
    out = run_python(f"""
        import os
        from syncbucket.metrics import prepare_multiprocess_dir
        prepare_multiprocess_dir({str(directory)!r})
        print(os.environ["PROMETHEUS_MULTIPROC_DIR"] == os.environ["dramatiq_prom_db"])
    """)
    assert out.strip() == "True"
    assert not list(directory.glob("*.db")), "cleared at start"
    run_python(WRITER.format(directory=str(directory), effective=2.0, pending=10))
    run_python(WRITER.format(directory=str(directory), effective=4.0, pending=3))
    assert len(list(directory.glob("counter_*.db"))) == 2

    labels = {
        "portal": "traces",
        "module": "return_summary",
        "outcome": "succeeded",
        "error_code": "none",
    }
    assert sample(directory, "syncbucket_items_processed_total", labels) == 6.0  # summed
    rate = {"portal": "traces"}
    assert sample(directory, "syncbucket_ratelimit_limit_per_second", rate) == 5.0  # max
    assert sample(directory, "syncbucket_ratelimit_effective_per_second", rate) == 4.0  # latest
    assert sample(directory, "syncbucket_outbox_pending_events") == 3.0  # latest, not 13


def test_prometheus_client_imported_first_is_switched_to_the_directory(tmp_path: Path) -> None:
    run_python(f"""
        import prometheus_client
        from syncbucket.metrics import prepare_multiprocess_dir, record
        prepare_multiprocess_dir({str(tmp_path)!r})
        record.reaper_action("timed_out", 2)
    """)
    assert sample(tmp_path, "syncbucket_reaper_actions_total", {"action": "timed_out"}) == 2.0


def test_metrics_built_before_the_directory_is_an_error(tmp_path: Path) -> None:
    out = run_python(f"""
        from syncbucket.metrics import get_metrics, prepare_multiprocess_dir, MetricsSetupError
        get_metrics()
        try:
            prepare_multiprocess_dir({str(tmp_path)!r})
        except MetricsSetupError as exc:
            print("refused:", exc)
    """)
    assert out.startswith("refused: SyncBucket metrics were created before")


def test_serve_metrics_exposes_the_directory(tmp_path: Path) -> None:
    run_python(WRITER.format(directory=str(tmp_path), effective=1.0, pending=1))
    server = serve_metrics(0, directory=tmp_path)
    try:
        url = f"http://127.0.0.1:{server.port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read().decode()
    finally:
        server.close()
    assert 'syncbucket_items_processed_total{error_code="none",module="return_summary"' in body


def test_dramatiq_middleware_writes_into_the_pool_directory(tmp_path: Path) -> None:
    run_python(f"""
        from syncbucket.metrics import prepare_multiprocess_dir
        prepare_multiprocess_dir({str(tmp_path)!r})
        import dramatiq
        from dramatiq.brokers.stub import StubBroker
        from syncbucket.metrics.dramatiq_mw import install_dramatiq_metrics

        broker = StubBroker()
        dramatiq.set_broker(broker)
        middleware = install_dramatiq_metrics(broker, in_process=True)
        assert middleware.forks == []

        @dramatiq.actor(queue_name="results")
        def record_outcome() -> None:
            pass

        worker = dramatiq.Worker(broker, worker_timeout=50)
        worker.start()
        record_outcome.send()
        broker.join("results")
        worker.join()
        worker.stop()
    """)
    labels = {"queue_name": "results", "actor_name": "record_outcome"}
    assert sample(tmp_path, "dramatiq_messages_total", labels) == 1.0


def test_dramatiq_middleware_imported_too_early_is_refused(tmp_path: Path) -> None:
    out = run_python(
        f"""
        import dramatiq.middleware.prometheus
        from syncbucket.metrics import prepare_multiprocess_dir, MetricsSetupError
        try:
            prepare_multiprocess_dir({str(tmp_path)!r})
        except MetricsSetupError as exc:
            print("refused:", exc)
    """,
        dramatiq_prom_db=str(tmp_path / "elsewhere"),
    )
    assert out.startswith("refused: dramatiq.middleware.prometheus was imported before")


def test_pool_fork_function_needs_its_port(tmp_path: Path) -> None:
    from syncbucket.metrics.serve import serve_pool_metrics

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
        patch.delenv("SYNCBUCKET_METRICS_PORT", raising=False)
        with pytest.raises(RuntimeError, match="SYNCBUCKET_METRICS_PORT"):
            serve_pool_metrics()
