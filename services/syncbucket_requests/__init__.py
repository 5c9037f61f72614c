"""The request consumer: upstream ``syncbucket.sync.requested`` CloudEvents become runs.

``python -m syncbucket_requests`` (or ``syncbucket serve requests``). Any number may run
side by side on one queue; each request is decided once (docs/events.md).
"""
