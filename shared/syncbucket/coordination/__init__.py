"""Coordination between replicas of one service.

The coordinator runs as two or more replicas for availability: every replica serves the
HTTP API, but the duties that must happen once (the dispatcher, the reaper, the
scheduler) run in exactly one of them at a time, the holder of a leader lease kept in
the database (:mod:`syncbucket.coordination.lease`, docs/architecture.md §18). The
database is the one thing every replica already shares and trusts, so no extra service
(ZooKeeper, etcd, Redis locks) is needed and the lease is exactly as available as the
work it protects.
"""
