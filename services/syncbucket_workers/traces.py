"""The TRACES pool: ``dramatiq syncbucket_workers.traces --queues portal.traces``."""

from __future__ import annotations

from syncbucket.domain.portals import Portal
from syncbucket_workers.bootstrap import bootstrap

pool = bootstrap(Portal.TRACES)
broker = pool.broker
