"""The session-cache contract (docs/architecture.md §8): one portal login per client, shared by
every
module of that client on every worker process.

A session state is the flat ``dict[str, str]`` of a portal session
(:meth:`syncbucket.portals.base.SerialisableSession.to_dict`). It holds tokens and cookies,
which are credentials: implementations keep it encrypted at rest and never log it.

``login_lock`` is the no-thundering-herd guarantee: of all the callers that find no usable
session, the first to take the lock logs in and ``put``\\ s the session; the others wait for
the lock, re-read the cache and use that session. ``invalidate(only_if=fingerprint)`` drops
the cached state only while it is still the one the caller saw expire, so a late caller can
never throw away the fresh session another caller just stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from syncbucket.portals.boundary import portal_name
from syncbucket.portals.errors import ErrorCode, PortalTransient

SessionState = dict[str, str]
ClientId = int | str


class LoginLockTimeout(PortalTransient):
    """Another worker held the login lock for too long: retry the item later."""

    def __init__(self, portal: str, waited_s: float) -> None:
        super().__init__(
            f"another worker has been logging in to {portal_name(portal)} for this client for "
            f"over {waited_s:.0f} s; the item will be retried later",
            portal=portal,
            code=ErrorCode.TIMEOUT,
        )


class SessionCacheUnavailable(PortalTransient):
    """The shared session cache (Redis) cannot be reached: retry the item later."""

    def __init__(self, portal: str, cause: str) -> None:
        super().__init__(
            f"the shared session cache is unreachable ({cause}); no login was attempted for "
            f"{portal_name(portal)} and the item will be retried",
            portal=portal,
            code=ErrorCode.CONNECTION,
        )


class SessionCache(Protocol):
    def get(self, client_id: ClientId, portal: str) -> SessionState | None:
        """The cached session state, or None when absent, expired or unreadable."""
        ...

    def put(self, client_id: ClientId, portal: str, state: Mapping[str, str], ttl_s: float) -> None:
        """Store ``state`` for ``ttl_s`` seconds, replacing any previous one."""
        ...

    def invalidate(self, client_id: ClientId, portal: str, only_if: str | None = None) -> bool:
        """Drop the state (only if its fingerprint is ``only_if``, when given); True if dropped."""
        ...

    def login_lock(self, client_id: ClientId, portal: str) -> AbstractContextManager[None]:
        """Hold the client's login lock for this portal; raise LoginLockTimeout if it never
        comes free."""
        ...


def state_fingerprint(state: Mapping[str, str]) -> str:
    """A short, stable, one-way digest of a session state (safe to store next to it)."""
    canonical = json.dumps(dict(state), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def cache_key(client_id: ClientId, portal: str) -> str:
    text = str(client_id)
    if not text or ":" in text or any(ch.isspace() for ch in text):
        raise ValueError(f"unusable client id for a cache key: {text!r}")
    return f"{portal}:{text}"
