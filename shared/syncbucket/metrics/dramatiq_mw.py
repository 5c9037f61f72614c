"""Dramatiq's own Prometheus middleware, folded into the pool's /metrics.

Dramatiq 2.x no longer adds it by default. As shipped it (a) writes its multi-process
files to ``dramatiq_prom_db`` (read when ``dramatiq.middleware.prometheus`` is imported)
and (b) forks its own HTTP server on ``dramatiq_prom_port`` (9191 by default, on
0.0.0.0), which would clash between pools on one host and add a second port per pool.

Decision: keep its hooks and metric definitions as they are (``dramatiq_messages_total``,
``dramatiq_message_errors_total``, ``..._retries_total``, ``..._rejects_total``,
``dramatiq_messages_inprogress`` (livesum), ``dramatiq_delayed_messages_inprogress``,
``dramatiq_message_duration_milliseconds``), point it at the pool's own directory
(:func:`syncbucket.metrics.prepare_multiprocess_dir` sets ``dramatiq_prom_db`` too) and
replace its fork with :func:`syncbucket.metrics.serve.serve_pool_metrics`, so one port
per pool serves both ``syncbucket_*`` and ``dramatiq_*``.

Import this module only after multi-process mode is set up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dramatiq import Broker
from dramatiq.middleware.prometheus import DB_PATH, Prometheus

from syncbucket.metrics.multiproc import MetricsSetupError, multiprocess_dir
from syncbucket.metrics.serve import serve_pool_metrics


class PoolPrometheus(Prometheus):
    """Dramatiq's middleware with SyncBucket's exposition server (or none)."""

    def __init__(self, *, expose: bool) -> None:
        super().__init__()
        self._expose = expose
        self._booted = False

    @property
    def forks(self) -> list[Callable[[], int]]:
        return [serve_pool_metrics] if self._expose else []

    def after_process_boot(self, broker: Broker) -> None:
        """Define the metrics once, even if ``process_boot`` is emitted again."""
        if not self._booted:
            self._booted = True
            super().after_process_boot(broker)  # type: ignore[no-untyped-call]


def install_dramatiq_metrics(broker: Broker, *, in_process: bool = False) -> PoolPrometheus:
    """Add Dramatiq's metrics to ``broker``, writing to this pool's directory.

    ``dramatiq`` CLI pools (``in_process=False``): the first worker process hands
    :func:`serve_pool_metrics` to the main process, which runs it as a fork.
    In-process workers (``dramatiq.Worker`` inside a service, e.g. the aggregator): no
    fork and no ``process_boot`` event, so the middleware is booted here and the service
    serves ``/metrics`` itself with :func:`syncbucket.metrics.serve_metrics`.
    """
    directory = multiprocess_dir()
    if directory is None:
        raise MetricsSetupError(
            "Dramatiq's metrics need multi-process mode: call prepare_multiprocess_dir() first"
        )
    if Path(DB_PATH).resolve() != directory.resolve():
        raise MetricsSetupError(
            f"dramatiq_prom_db is {DB_PATH}, PROMETHEUS_MULTIPROC_DIR is {directory}: "
            "dramatiq.middleware.prometheus was imported before prepare_multiprocess_dir()"
        )
    middleware = PoolPrometheus(expose=not in_process)
    broker.add_middleware(middleware)
    if in_process:
        middleware.after_process_boot(broker)
    return middleware
