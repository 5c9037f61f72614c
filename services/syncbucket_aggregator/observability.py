"""The aggregator's ``/metrics``: its own catalogue series plus Dramatiq's, from one directory.

The aggregator runs its Dramatiq worker in-process, and Dramatiq's Prometheus middleware
keeps its values in multi-process files; so the aggregator is in multi-process mode too,
with its own directory ``<metrics_dir>/aggregator`` (cleared at start: one aggregator per
host and metrics directory), set up by :func:`prepare` before prometheus_client is
imported, and served on ``aggregator_metrics_port``.
"""

from __future__ import annotations

from pathlib import Path

import dramatiq

from syncbucket.config import Settings
from syncbucket.metrics import MetricsServer, prepare_multiprocess_dir
from syncbucket.metrics.serve import try_serve_metrics

DIRECTORY = "aggregator"


def prepare(settings: Settings) -> Path:
    """Multi-process mode in this process's own directory; call before :func:`start`."""
    return prepare_multiprocess_dir(Path(settings.metrics_dir) / DIRECTORY)


def start(settings: Settings, broker: dramatiq.Broker, directory: Path) -> MetricsServer | None:
    """Dramatiq's middleware on ``broker``, the series at zero, and the /metrics server."""
    from syncbucket.metrics import record
    from syncbucket.metrics.dramatiq_mw import install_dramatiq_metrics
    from syncbucket.pipeline.events import OUTGOING

    install_dramatiq_metrics(broker, in_process=True)
    record.init_aggregator_series([kind.type for kind in OUTGOING])
    return try_serve_metrics(
        settings.aggregator_metrics_port, host=settings.metrics_host, directory=directory
    )
