"""The stack under test: real worker pools and aggregator, a dispatcher loop in-process.

Worker pools are exactly what production runs (``python -m dramatiq
syncbucket_workers.traces --queues portal.traces --processes 2 --threads 4``), configured
only through ``SYNCBUCKET_*`` variables pointing at the test's PostgreSQL database,
RabbitMQ vhost, Redis database and simulator process.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from syncbucket.config import Settings
from syncbucket.db.base import utcnow
from syncbucket.db.items import Item
from syncbucket.db.runs import Run
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import make_broker
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.metrics.multiproc import pool_environment
from syncbucket.pipeline.dispatcher import dispatch_tick, windows_from_settings
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.requests import RunRequest
from syncbucket.pipeline.runs import create_run
from tests.integration.portal_pressure.procs import Proc
from tests.integration.portal_pressure.simproc import clean_env, free_port

TRACES_MODULES = [
    ModuleKey.RETURN_SUMMARY,
    ModuleKey.UNCONSUMED_CHALLANS,
    ModuleKey.OUTSTANDING_DEMAND,
    ModuleKey.VERIFY_LDC,
]
TERMINAL = ("succeeded", "failed", "skipped", "cancelled")


def child_env(settings: Settings, **overrides: object) -> dict[str, str]:
    """SYNCBUCKET_* for a child process: the test's services plus ``overrides``."""
    values: dict[str, object] = {
        "database_url": settings.database_url,
        "broker_url": settings.broker_url,
        "redis_url": settings.redis_url,
        "redis_key_prefix": settings.redis_key_prefix,
        "secret_key": settings.require_secret_key(),
        "traces_base_url": settings.traces_base_url,
        "itportal_base_url": settings.itportal_base_url,
        "log_format": "human",
        "metrics_dir": tempfile.mkdtemp(prefix="pressure-metrics-"),
        "traces_worker_metrics_port": free_port(),
        "itportal_worker_metrics_port": free_port(),
        "aggregator_metrics_port": free_port(),
        "retry_min_backoff_seconds": 0.2,
        "retry_max_backoff_seconds": 1.0,
        **overrides,
    }
    return clean_env(
        {f"SYNCBUCKET_{k.upper()}": str(v) for k, v in values.items() if v is not None}
    )


def traces_pool(
    name: str, env: Mapping[str, str], *, threads: int = 4, shutdown_ms: int = 30_000
) -> Proc:
    """What ``syncbucket worker --portal traces`` execs (2 processes), with its metrics env."""
    args = ["-m", "dramatiq", "syncbucket_workers.traces", "--queues", "portal.traces"]
    args += ["--processes", "2", "--threads", str(threads)]
    args += ["--worker-shutdown-timeout", str(shutdown_ms)]
    metrics = pool_environment(
        tempfile.mkdtemp(prefix=f"pressure-{name}-"), port=free_port(), host="127.0.0.1"
    )
    return Proc(name, args, {**env, **metrics, "dramatiq_prom_port": str(free_port())})


def aggregator(env: Mapping[str, str]) -> Proc:
    return Proc("aggregator", ["-m", "syncbucket_aggregator"], env)


@dataclass
class Dispatcher:
    """The coordinator's dispatcher and reaper loops, in a thread of the test process."""

    settings: Settings
    sessions: SessionFactory
    interval_s: float = 0.2
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        broker = make_broker(self.settings)
        declare_actors(broker, ActorHandlers())
        publisher = DramatiqWorkPublisher(broker)
        windows = windows_from_settings(self.settings)
        queued = timedelta(seconds=self.settings.item_queued_timeout_seconds)
        next_reap = 0.0
        try:
            while not self._stop.wait(self.interval_s):
                dispatch_tick(self.sessions, publisher, windows, utcnow(), queued_timeout=queued)
                if time.monotonic() >= next_reap:
                    reap(self.sessions, None, utcnow(), self.settings)
                    next_reap = time.monotonic() + self.settings.reaper_interval_seconds
        except BaseException as exc:  # surfaced by wait_run
            self.errors.append(exc)
        finally:
            broker.close()


def start_run(sessions: SessionFactory, firm_id: int, clients: list[int]) -> int:
    request = RunRequest(
        firm_id=firm_id, modules=list(TRACES_MODULES), client_ids=clients, source=RunSource.CLI
    )
    with unit_of_work(sessions) as session:
        return create_run(session, request).run_id


def run_row(sessions: SessionFactory, run_id: int) -> Run:
    with sessions() as session:
        found = session.get(Run, run_id)
        assert found is not None
        return found


def items_of(sessions: SessionFactory, run_id: int) -> list[Item]:
    with sessions() as session:
        return list(session.scalars(sa.select(Item).where(Item.run_id == run_id)))


def done_count(sessions: SessionFactory, run_id: int) -> int:
    run = run_row(sessions, run_id)
    return run.items_succeeded + run.items_failed + run.items_skipped + run.items_cancelled


def wait_run(
    sessions: SessionFactory,
    run_id: int,
    timeout: float,
    watched: Iterable[Proc] = (),
    dispatcher: Dispatcher | None = None,
) -> Run:
    """Wait for the run's completion claim; fail early when a watched process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = run_row(sessions, run_id)
        if run.completed_at is not None:
            return run
        for proc in watched:
            assert proc.alive(), f"{proc.name} exited with {proc.popen.returncode}"
        if dispatcher is not None and dispatcher.errors:
            raise dispatcher.errors[0]
        time.sleep(0.2)
    counts = {i.status.value for i in items_of(sessions, run_id)}
    raise AssertionError(f"run {run_id} not complete after {timeout:g} s (statuses {counts})")
