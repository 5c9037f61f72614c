"""The aggregator: the ``results`` queue consumer and the outbox relay, in one process.

``python -m syncbucket_aggregator`` (or ``syncbucket serve aggregator``).
"""
