"""The process's one :class:`SyncBucketMetrics`, created on first use (never at import)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncbucket.metrics.catalogue import SyncBucketMetrics

_lock = threading.Lock()
_metrics: SyncBucketMetrics | None = None


def built() -> bool:
    return _metrics is not None


def get_metrics() -> SyncBucketMetrics:
    """The catalogue on prometheus_client's default registry, defined on the first call.

    In multi-process mode the values live in ``PROMETHEUS_MULTIPROC_DIR`` and
    :func:`syncbucket.metrics.serve_metrics` reads them from there.
    """
    global _metrics
    if _metrics is None:
        with _lock:
            if _metrics is None:
                from prometheus_client import REGISTRY

                from syncbucket.metrics.catalogue import build_metrics

                _metrics = build_metrics(REGISTRY)
    return _metrics
