"""Multi-process mode (docs/architecture.md §12): one metrics directory per pool, chosen before
import.

prometheus_client decides *at import time* how metric values are stored:
``prometheus_client.values`` sets ``ValueClass`` to an mmap-backed class when
``PROMETHEUS_MULTIPROC_DIR`` is in the environment, else to an in-memory one; every
Counter/Gauge/Histogram child created later takes ``values.ValueClass``. Values created
in memory inside a Dramatiq worker process are invisible to the pool's ``/metrics``.

So, in order of preference:

1. the launcher (``syncbucket worker``) calls :func:`prepare_multiprocess_dir` and then
   ``exec``s ``dramatiq``: every worker and fork process inherits the variables before
   any import;
2. a service entry module calls it as its first statement, before importing anything
   that imports prometheus_client (``syncbucket.metrics`` itself never does at import);
3. safety net: if prometheus_client was imported already but none of SyncBucket's
   metrics exists yet, ``values.ValueClass`` is switched to the multi-process class
   (metrics look it up when each child is created). If SyncBucket's metrics were built
   already, :class:`MetricsSetupError` says so instead of silently losing them.

No prometheus_client import at module level here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Dramatiq's Prometheus middleware reads its directory from this variable when
#: ``dramatiq.middleware.prometheus`` is imported; it must be the same directory.
DRAMATIQ_DB_ENV = "dramatiq_prom_db"
#: What ``syncbucket worker`` hands a pool's fork process
#: (:func:`syncbucket.metrics.serve.serve_pool_metrics`): the pool's port (setting
#: ``<portal>_worker_metrics_port``) and interface (the ``metrics_host`` setting, whose
#: variable this is).
METRICS_PORT_ENV = "SYNCBUCKET_METRICS_PORT"
METRICS_HOST_ENV = "SYNCBUCKET_METRICS_HOST"


class MetricsSetupError(RuntimeError):
    """Multi-process metrics were set up too late or inconsistently."""


def multiprocess_dir() -> Path | None:
    """The directory of multi-process mode, or None in single-process mode."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def prepare_multiprocess_dir(path: str | os.PathLike[str], *, clear: bool = True) -> Path:
    """Create ``path``, empty it (at pool start only!) and switch this process to it.

    Sets ``PROMETHEUS_MULTIPROC_DIR`` and ``dramatiq_prom_db``; children inherit both.
    Clear only when no process of the pool is running: the ``*.db`` files of dead
    processes hold their counters until the pool restarts.
    """
    directory = Path(path).resolve()
    switch = _check_loaded_modules(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if clear:
        for stale in directory.glob("*.db"):
            stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)
    os.environ[DRAMATIQ_DB_ENV] = str(directory)
    if switch:
        values: Any = sys.modules["prometheus_client.values"]
        values.ValueClass = values.MultiProcessValue()
    return directory


def pool_environment(path: str | os.PathLike[str], *, port: int, host: str) -> dict[str, str]:
    """Create and empty a pool's directory; the variables its processes need.

    For a launcher that ``exec``s the pool with them (``os.execve``): unlike
    :func:`prepare_multiprocess_dir` it leaves this process's own metrics alone. Empty it
    only when no process of the pool is running.
    """
    directory = Path(path).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return {
        MULTIPROC_ENV: str(directory),
        DRAMATIQ_DB_ENV: str(directory),
        METRICS_PORT_ENV: str(port),
        METRICS_HOST_ENV: host,
    }


def _check_loaded_modules(directory: Path) -> bool:
    """Refuse set-ups that would lose metrics; True if prometheus_client must be switched."""
    dramatiq_prom = sys.modules.get("dramatiq.middleware.prometheus")
    if dramatiq_prom is not None and Path(dramatiq_prom.DB_PATH).resolve() != directory:
        raise MetricsSetupError(
            "dramatiq.middleware.prometheus was imported before prepare_multiprocess_dir() "
            f"and writes to {dramatiq_prom.DB_PATH}, not {directory}"
        )
    values = sys.modules.get("prometheus_client.values")
    if values is None:
        return False  # the normal case: the import will see the variable
    if getattr(values.ValueClass, "_multiprocess", False):
        return False  # imported with the variable set already (e.g. by the launcher)
    from syncbucket.metrics import state

    if state.built():
        raise MetricsSetupError(
            "SyncBucket metrics were created before prepare_multiprocess_dir() ran; "
            "call it first thing in the service's entry module"
        )
    return True
