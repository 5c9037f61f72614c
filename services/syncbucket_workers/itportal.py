"""The IT portal pool: ``dramatiq syncbucket_workers.itportal --queues portal.itportal``."""

from __future__ import annotations

from syncbucket.domain.portals import Portal
from syncbucket_workers.bootstrap import bootstrap
from syncbucket_workers.observability import instrument_pool, on_login, transport_hooks

pool = bootstrap(Portal.ITPORTAL, hooks=transport_hooks(), on_login=on_login)
instrument_pool(pool.portal, pool.settings, pool.broker)
broker = pool.broker
