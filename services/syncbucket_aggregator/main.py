"""Run the aggregator in the foreground until SIGTERM or SIGINT, then stop cleanly (exit 0).

``/metrics`` on ``SYNCBUCKET_AGGREGATOR_METRICS_PORT`` (9102), see :mod:`.observability`.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from syncbucket.config import ConfigError, load_settings
from syncbucket.db.migrate import MigrationsNotFoundError, SchemaNotCurrentError
from syncbucket.logs import configure_logging
from syncbucket_aggregator import observability
from syncbucket_aggregator.bootstrap import bootstrap

USAGE_ERROR = 2


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings)
        directory = observability.prepare(settings)
        aggregator = bootstrap(settings)
    except (ConfigError, SchemaNotCurrentError, MigrationsNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    metrics = observability.start(settings, aggregator.broker, directory)
    aggregator.start()
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        aggregator.stop()
        if metrics is not None:
            metrics.close()
    return 0
