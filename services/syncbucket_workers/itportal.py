"""The IT portal pool: ``dramatiq syncbucket_workers.itportal --queues portal.itportal``."""

from __future__ import annotations

from syncbucket.domain.portals import Portal
from syncbucket_workers.bootstrap import bootstrap

pool = bootstrap(Portal.ITPORTAL)
broker = pool.broker
