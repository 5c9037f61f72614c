"""``bootstrap(portal)``: wire one portal worker pool (one call per worker process).

The portal edge comes from settings (:meth:`WorkDeps.from_settings`): with
``SYNCBUCKET_REDIS_URL`` set, every pool process and host shares the per-portal GCRA
rate limit, the encrypted session cache (one login per client and portal, one re-login on
expiry) and the lockout breaker through Redis; without it each process has in-process
equivalents (fine for one process, the embedded footprint). ``hooks`` observe the paced
transports and ``on_login(portal, result)`` every login tried or skipped (metrics).
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq

from syncbucket.config import ConfigError, Settings, load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.engine import make_engine
from syncbucket.db.migrate import ensure_current
from syncbucket.db.session import make_session_factory
from syncbucket.domain.portals import Portal
from syncbucket.logs import configure_logging
from syncbucket.messaging.actors import ActorHandlers, Actors, declare_actors
from syncbucket.messaging.broker import make_broker
from syncbucket.messaging.worker_actor import OutcomeRecorder, WorkActor
from syncbucket.pipeline.work import WorkDeps
from syncbucket.ratelimit import TransportHooks, portal_transports
from syncbucket.sessions.breaker import LoginHook


@dataclass(frozen=True)
class WorkerPool:
    portal: Portal
    settings: Settings
    broker: dramatiq.Broker
    actors: Actors
    deps: WorkDeps


def bootstrap(
    portal: Portal,
    settings: Settings | None = None,
    *,
    configure_logs: bool = True,
    hooks: TransportHooks | None = None,
    on_login: LoginHook | None = None,
) -> WorkerPool:
    """Build the pool's dependencies and set its broker as Dramatiq's global broker.

    A separate pool needs RabbitMQ: without ``SYNCBUCKET_BROKER_URL`` it refuses to start
    (the embedded footprint runs its workers in-process instead). Logging keeps the
    handler the ``dramatiq`` CLI installed (a pipe to its main process), re-formatted.
    """
    settings = settings or load_settings()
    if not settings.broker_url:
        raise ConfigError(
            "SYNCBUCKET_BROKER_URL is not set: a separate worker pool needs RabbitMQ "
            "(the embedded footprint, `syncbucket demo`, runs its workers in-process)"
        )
    if configure_logs:
        configure_logging(settings, reuse_handlers=True)
    engine = make_engine(settings.database_url)
    ensure_current(engine)
    broker = make_broker(settings)
    dramatiq.set_broker(broker)
    deps = WorkDeps.from_settings(
        settings,
        make_session_factory(engine),
        CredentialCipher(settings.require_secret_key()),
        transports=portal_transports(settings, hooks=hooks),
        on_login=on_login,
    )
    handlers = ActorHandlers(work=WorkActor(deps, broker), outcome=OutcomeRecorder(deps.sessions))
    actors = declare_actors(
        broker, handlers, item_time_limit_seconds=settings.item_time_limit_seconds
    )
    return WorkerPool(portal, settings, broker, actors, deps)
