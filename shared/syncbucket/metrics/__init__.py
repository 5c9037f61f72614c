"""SyncBucket's Prometheus metrics: the catalogue of docs/metrics.md and how to serve it.

Import order matters in multi-process workers (docs/architecture.md §12). Importing this package
never imports prometheus_client, and no metric exists before the first
:func:`get_metrics` call, so a service entry module can do, first thing::

    from syncbucket.metrics import prepare_multiprocess_dir
    prepare_multiprocess_dir("var/metrics/aggregator")   # before any other import

Modules: ``labels`` (bounded label values), ``multiproc`` (directory set-up),
``catalogue`` (definitions; imports prometheus_client), ``state`` (the lazy instance),
``record`` (one function per fact, for the wiring), ``serve`` (/metrics),
``dramatiq_mw`` (Dramatiq's own middleware folded in; imports dramatiq).
"""

from __future__ import annotations

from syncbucket.metrics.multiproc import (
    MetricsSetupError,
    multiprocess_dir,
    prepare_multiprocess_dir,
)
from syncbucket.metrics.serve import (
    DEFAULT_METRICS_PORTS,
    MetricsServer,
    render_latest,
    serve_metrics,
)
from syncbucket.metrics.state import get_metrics

__all__ = [
    "DEFAULT_METRICS_PORTS",
    "MetricsServer",
    "MetricsSetupError",
    "get_metrics",
    "multiprocess_dir",
    "prepare_multiprocess_dir",
    "render_latest",
    "serve_metrics",
]
