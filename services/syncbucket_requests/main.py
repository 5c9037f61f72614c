"""Run the request consumer in the foreground until SIGTERM or SIGINT (exit 0).

``/metrics`` on ``SYNCBUCKET_REQUESTS_METRICS_PORT`` (9105). A bad setting or a database
not at the current migration is refused with one line (exit 2).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from syncbucket.config import ConfigError, load_settings
from syncbucket.db.migrate import MigrationsNotFoundError, SchemaNotCurrentError
from syncbucket.logs import configure_logging
from syncbucket.metrics import record
from syncbucket.metrics.serve import try_serve_metrics
from syncbucket.pipeline.events import OUTGOING
from syncbucket_requests.bootstrap import bootstrap

USAGE_ERROR = 2


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings)
        service = bootstrap(settings)
    except (ConfigError, SchemaNotCurrentError, MigrationsNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    record.init_request_series([kind.type for kind in OUTGOING])
    metrics = try_serve_metrics(settings.requests_metrics_port, host=settings.metrics_host)
    service.start()
    try:
        while not stopping.wait(1.0):
            if not service.alive():
                print("error: the request consumer stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        service.stop()
        if metrics is not None:
            metrics.close()
    return 0
