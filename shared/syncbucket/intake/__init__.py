"""Upstream sync requests in: CloudEvents on ``syncbucket.requests`` become runs.

- :mod:`.rejections`: the stable reason codes a request can be refused with;
- :mod:`.signing`: the HMAC-SHA256 signature that proves a request's firm;
- :mod:`.integration_secrets`: the per-firm secrets (issue, rotate with a grace, revoke);
- :mod:`.envelope`: bytes off the queue -> a checked CloudEvent, or a rejection;
- :mod:`.answers`: ``sync.accepted`` / ``sync.rejected`` events, through the outbox;
- :mod:`.handler`: one request -> one decision, committed before the message is acked;
- :mod:`.publisher`: the reference publisher upstream systems (and the CLI) use.

docs/events.md describes the protocol; docs/architecture.md why it is built this way.
"""
