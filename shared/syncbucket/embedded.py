"""The embedded footprint in one process: ``syncbucket demo`` and the demo's web app.

SQLite file, Dramatiq ``StubBroker`` with an in-process ``Worker`` over every queue, the
portal simulator in a thread, the outbox relay, and (unless the caller runs its own, as
the coordinator's embedded mode does) the dispatcher and reaper loops, in threads. The
actors, the dispatcher, the aggregator and the relay are the production library code;
only the broker and the portals are stand-ins (docs/architecture.md, "one code path,
two footprints").
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
import sqlalchemy as sa

from syncbucket.config import Settings, load_settings
from syncbucket.crypto import CredentialCipher, generate_secret_key
from syncbucket.db import migrate
from syncbucket.db.base import utcnow
from syncbucket.db.engine import make_engine
from syncbucket.db.session import SessionFactory, make_session_factory
from syncbucket.domain.portals import Portal
from syncbucket.messaging.actors import ActorHandlers, declare_actors
from syncbucket.messaging.broker import RESULTS_QUEUE, make_broker, portal_queue
from syncbucket.messaging.publishers import DramatiqWorkPublisher, MemoryEventPublisher
from syncbucket.messaging.relay import OutboxRelay
from syncbucket.messaging.runtime import start_worker
from syncbucket.messaging.worker_actor import OutcomeRecorder, WorkActor
from syncbucket.pipeline.dispatcher import dispatch_tick, windows_from_settings
from syncbucket.pipeline.reaper import reap
from syncbucket.pipeline.work import WorkDeps
from syncbucket.portalsim.faults import PORTALS, FaultSettings
from syncbucket.portalsim.server import RunningSimulator, start_simulator

log = logging.getLogger("syncbucket.demo")

# Light faults: a little latency, ~2% server errors, a rate limit that answers a few 429s.
LIGHT_FAULTS = FaultSettings(
    latency_ms_min=2,
    latency_ms_max=15,
    error_5xx_rate=0.02,
    rate_limit_per_second=150.0,
    rate_limit_burst=20,
)


@dataclass(frozen=True)
class DemoPaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "demo.db"

    @property
    def events(self) -> Path:
        return self.root / "demo-events.jsonl"

    @property
    def report(self) -> Path:
        return self.root / "demo-report.csv"

    @property
    def log(self) -> Path:
        return self.root / "demo.log"

    def fresh(self) -> None:
        """Remove what an earlier demo left (the database with its WAL files, the events)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database}{suffix}").unlink(missing_ok=True)
        self.events.unlink(missing_ok=True)
        self.report.unlink(missing_ok=True)


class JsonlEventPublisher(MemoryEventPublisher):
    """Keeps events in memory and appends each one as a JSON line to a file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path

    def publish(self, routing_key: str, event: Mapping[str, Any]) -> None:
        super().publish(routing_key, event)
        with self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"routing_key": routing_key, "event": event}) + "\n")


class Every:
    """Call ``action`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, name: str, action: Callable[[], object], interval: float) -> None:
        self._action, self._interval = action, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._action()
            except Exception:
                log.exception("%s pass failed; trying again", self._thread.name)
            self._stop.wait(self._interval)

    def start(self) -> Every:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10.0)


@dataclass(frozen=True)
class Embedded:
    settings: Settings
    engine: sa.Engine
    sessions: SessionFactory
    cipher: CredentialCipher
    events: JsonlEventPublisher
    relay: OutboxRelay
    simulator: RunningSimulator
    broker: dramatiq.Broker


def demo_settings(
    paths: DemoPaths, sim: RunningSimulator, secret_key: str | None = None, **overrides: Any
) -> Settings:
    """Embedded URLs, the demo's key, and pacing fit for a simulator on this machine."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{paths.database}",
        "broker_url": None,
        "redis_url": None,
        "secret_key": secret_key or generate_secret_key(),
        "traces_base_url": sim.traces_url,
        "itportal_base_url": sim.itportal_url,
        "traces_rate_per_second": 200.0,
        "traces_burst": 20,
        "itportal_rate_per_second": 200.0,
        "itportal_burst": 20,
        "retry_min_backoff_seconds": 0.2,
        "retry_max_backoff_seconds": 2.0,
        "dispatch_interval_seconds": 0.1,
        "item_queued_timeout_seconds": 120.0,
        "item_running_timeout_seconds": 120.0,
        "reaper_interval_seconds": 5.0,
        # The simulator's random 5xx at a few hundred requests per second would look like
        # an overload to the production policy (5 errors in 10 s) and slow the demo to a
        # crawl: the demo reacts to bursts well above its steady ~2% instead, and recovers
        # within seconds.
        "ratelimit_error_burst_count": 60,
        "ratelimit_slowdown_min_seconds": 3.0,
    }
    return load_settings(**{**values, **overrides})


def _loops(system: Embedded, stack: ExitStack) -> None:
    settings, sessions = system.settings, system.sessions
    publisher = DramatiqWorkPublisher(system.broker)
    windows = windows_from_settings(settings)
    dispatcher = Every(
        "dispatcher",
        lambda: dispatch_tick(sessions, publisher, windows, utcnow()),
        settings.dispatch_interval_seconds,
    )
    reaper = Every(
        "reaper", lambda: reap(sessions, None, utcnow(), settings), settings.reaper_interval_seconds
    )
    stack.callback(dispatcher.start().stop)
    stack.callback(reaper.start().stop)


def _worker(system: Embedded, threads: int, stack: ExitStack) -> None:
    broker = system.broker
    # Same edge as the pools: in-process limiter, session cache and lockout breaker here
    # because the demo has no Redis.
    deps = WorkDeps.from_settings(system.settings, system.sessions, system.cipher)
    handlers = ActorHandlers(work=WorkActor(deps, broker), outcome=OutcomeRecorder(system.sessions))
    declare_actors(
        broker, handlers, item_time_limit_seconds=system.settings.item_time_limit_seconds
    )
    # start_worker emits process_boot, which TimeLimit needs to enforce item time limits.
    queues = {*(portal_queue(portal) for portal in Portal), RESULTS_QUEUE}
    worker = start_worker(broker, queues=queues, threads=threads, idle_timeout_ms=100)
    stack.callback(worker.stop)


@contextmanager
def embedded(
    paths: DemoPaths,
    *,
    threads: int = 12,
    faults: FaultSettings | None = LIGHT_FAULTS,
    fresh: bool = True,
    secret_key: str | None = None,
    dispatch: bool = True,
    **settings_overrides: Any,
) -> Iterator[Embedded]:
    """Start everything and stop it all (in reverse) when the block ends.

    ``fresh`` starts from an empty database (else the one in ``paths`` is kept and
    migrated; pass the ``secret_key`` its credentials were saved with). ``dispatch``
    False leaves the dispatcher and reaper to the caller (the coordinator runs its own).
    """
    if fresh:
        paths.fresh()
    with ExitStack() as stack:
        knobs = {portal: faults or FaultSettings() for portal in PORTALS}
        sim = stack.enter_context(start_simulator(faults=knobs))
        settings = demo_settings(paths, sim, secret_key, **settings_overrides)
        migrate.upgrade(settings.database_url)
        engine = make_engine(settings.database_url)
        stack.callback(engine.dispose)
        sessions = make_session_factory(engine)
        events = JsonlEventPublisher(paths.events)
        relay = OutboxRelay(sessions, events, interval_seconds=0.2)
        cipher = CredentialCipher(settings.require_secret_key())
        broker = make_broker(settings)
        stack.callback(broker.close)
        system = Embedded(settings, engine, sessions, cipher, events, relay, sim, broker)
        _worker(system, threads, stack)
        if dispatch:
            _loops(system, stack)
        relay.start()
        stack.callback(relay.stop)
        yield system
