"""Entrypoint: ``python -m syncbucket_coordinator [--host H] [--port P] [--embedded DIR]``.

``--embedded DIR`` serves the demo's embedded footprint instead of the configured one:
the SQLite database in DIR (``syncbucket demo`` made it), the stub broker with its
in-process worker, the portal simulator in a thread -- what ``make demo`` keeps running
on a terminal so the web app can be tried. SYNCBUCKET_SECRET_KEY must be the key that
database's credentials were saved with (the demo passes it).

Host and port default to ``SYNCBUCKET_API_HOST`` / ``SYNCBUCKET_API_PORT`` (127.0.0.1:8080).
``/metrics`` is served on the API and on ``SYNCBUCKET_COORDINATOR_METRICS_PORT`` (9101).
Start-up refuses a bad setting or a database not at the current migration with a one-line
message (exit 2). SIGTERM or Ctrl-C: uvicorn finishes the requests in flight, then the
loops stop, the broker and the database are released, and the process exits 0.

Run two or more on one database for availability: each serves the API; the dispatcher
and reaper run only in the one holding the leader lease (docs/architecture.md §18). On
SIGTERM a leader stops them and releases the lease, so another replica takes over at
its next renewal; after a kill -9 the others wait out SYNCBUCKET_LEADER_LEASE_SECONDS.
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import uvicorn

from syncbucket.config import ConfigError, Settings, load_settings
from syncbucket.db.migrate import MigrationsNotFoundError, SchemaNotCurrentError
from syncbucket.embedded import DemoPaths, embedded
from syncbucket.logs import configure_logging
from syncbucket.messaging.publishers import DramatiqWorkPublisher
from syncbucket.metrics import record
from syncbucket.metrics.serve import try_serve_metrics
from syncbucket_coordinator.app import create_app
from syncbucket_coordinator.container import Coordinator, bootstrap

logger = logging.getLogger("syncbucket_coordinator")
USAGE_ERROR = 2


def parse_args(settings: Settings, argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="syncbucket-coordinator", description=__doc__)
    parser.add_argument("--host", default=settings.api_host, help="interface to listen on")
    parser.add_argument("--port", type=int, default=settings.api_port, help="port")
    parser.add_argument(
        "--embedded", type=Path, metavar="DIR", help="serve the demo's embedded footprint in DIR"
    )
    return parser.parse_args(argv)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    """Called again by uvicorn after its graceful shutdown: leave through ``finally``."""
    logger.info("received %s, shutting down", signal.Signals(signum).name)
    raise SystemExit(0)


def serve(coordinator: Coordinator, host: str, port: int) -> None:
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    settings = coordinator.settings
    record.init_coordinator_series()
    metrics = try_serve_metrics(settings.coordinator_metrics_port, host=settings.metrics_host)
    try:
        coordinator.start()
        app = create_app(coordinator)
        # Everything made while starting (the app, its templates, SQLAlchemy's mappers)
        # lives as long as the process: out of the collector's sight, a full collection no
        # longer walks it (page p95 at 10,000 clients fell from ~130 to ~40 ms in
        # tests/perf/test_web_bench.py, which freezes at the same point).
        gc.freeze()
        logger.info("coordinator API on http://%s:%d/api/v1/docs", host, port)
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    finally:
        coordinator.close()
        if metrics is not None:
            metrics.close()
        logger.info("coordinator stopped")


def serve_embedded(directory: Path, host: str, port: int) -> None:
    """The coordinator (API, web app, dispatcher, reaper) on the demo's embedded footprint."""
    settings = load_settings()
    with embedded(
        DemoPaths(directory),
        fresh=False,
        secret_key=settings.require_secret_key(),
        dispatch=False,
        api_host=host,
        api_port=port,
    ) as system:
        publisher = DramatiqWorkPublisher(system.broker)
        serve(bootstrap(system.settings, engine=system.engine, publisher=publisher), host, port)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        settings = load_settings()
        args = parse_args(settings, argv)
        configure_logging(settings)
        if args.embedded is not None:
            serve_embedded(args.embedded, args.host, args.port)
            return
        coordinator = bootstrap(settings)
    except (ConfigError, SchemaNotCurrentError, MigrationsNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(USAGE_ERROR) from None
    serve(coordinator, args.host, args.port)
