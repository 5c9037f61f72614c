"""``/metrics`` for a service: one port per service or pool (docs/architecture.md §12).

In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set) the page is built at each
scrape from the directory's files, which every process of the pool writes; otherwise
from prometheus_client's default registry (with process and GC metrics).
prometheus_client is imported inside the functions, never at module import.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from syncbucket.metrics.multiproc import METRICS_HOST_ENV, METRICS_PORT_ENV, multiprocess_dir

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client.registry import Collector

DEFAULT_METRICS_HOST = "127.0.0.1"
log = logging.getLogger("syncbucket.metrics")
#: One port per service / pool; deploy/prometheus/prometheus.yml scrapes these.
DEFAULT_METRICS_PORTS: dict[str, int] = {
    "coordinator": 9101,
    "aggregator": 9102,
    "worker-traces": 9103,
    "worker-itportal": 9104,
    "requests": 9105,
}


@dataclass
class MetricsServer:
    """A running /metrics server; ``port`` is the bound one (useful with port 0)."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def exposition_registry(directory: Path | None = None) -> Collector:
    """What /metrics shows: the multi-process directory if any, else the default registry."""
    from prometheus_client import REGISTRY, CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    chosen = directory or multiprocess_dir()
    if chosen is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(chosen))  # type: ignore[no-untyped-call]
    return registry


def render_latest(directory: Path | None = None) -> tuple[bytes, str]:
    """The /metrics body and content type, for a framework route (e.g. FastAPI)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(exposition_registry(directory)), CONTENT_TYPE_LATEST


def serve_metrics(
    port: int, *, host: str = DEFAULT_METRICS_HOST, directory: Path | None = None
) -> MetricsServer:
    """Serve /metrics on ``host:port`` from a daemon thread; ``port=0`` picks a free one."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, host, exposition_registry(directory))
    return MetricsServer(server, thread)


def try_serve_metrics(
    port: int, *, host: str = DEFAULT_METRICS_HOST, directory: Path | None = None
) -> MetricsServer | None:
    """:func:`serve_metrics`, or None with an error logged if the port cannot be bound.

    A service keeps working without its /metrics (Prometheus then reports it down, which
    pages through ``SyncBucketServiceDown``) rather than refusing to process work.
    """
    try:
        server = serve_metrics(port, host=host, directory=directory)
    except OSError as exc:
        log.error("cannot serve /metrics on %s:%d (%s); running without it", host, port, exc)
        return None
    log.info("metrics on http://%s:%d/metrics", host, server.port)
    return server


def serve_pool_metrics() -> int:
    """Dramatiq fork function: serve the pool's directory until SIGTERM.

    Reads ``SYNCBUCKET_METRICS_PORT`` / ``SYNCBUCKET_METRICS_HOST`` and
    ``PROMETHEUS_MULTIPROC_DIR`` set by the launcher.
    """
    directory = multiprocess_dir()
    if directory is None:
        raise RuntimeError("PROMETHEUS_MULTIPROC_DIR is not set for this worker pool")
    port_text = os.environ.get(METRICS_PORT_ENV)
    if not port_text:
        raise RuntimeError(f"{METRICS_PORT_ENV} is not set for this worker pool")
    port = int(port_text)
    host = os.environ.get(METRICS_HOST_ENV, DEFAULT_METRICS_HOST)
    if try_serve_metrics(port, host=host, directory=directory) is None:
        return 1
    threading.Event().wait()  # dramatiq's SIGTERM handler exits the process
    return 0
