"""One login per client and portal, shared by every worker: the whole algorithm.

``with_shared_session(cache, client_id, portal, client, login, work)``:

1. use the cached state if there is one;
2. else take the login lock, re-read the cache (another worker may have just logged in),
   and only if it is still empty call ``login`` and ``put`` the new state;
3. run ``work``; if it raises ``SessionExpired``, drop the cached state *only if it is still
   the one that expired* (``invalidate(only_if=fingerprint)``), then renew through the lock
   exactly as in 2 - whoever is first logs in, everyone else picks that session up - and
   run ``work`` once more. A second expiry propagates.
4. if the client replaced its session itself during ``work`` (its own re-login), the new
   state is written back so the other workers use it too.

``login`` should be wrapped with :func:`syncbucket.sessions.breaker.guarded_login`, so a
rejected login trips the breaker and every waiter behind the lock fails fast instead of
trying again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Generic, Protocol, TypeVar

from syncbucket.portals.base import PortalClient, SerialisableSession
from syncbucket.portals.errors import SessionExpired
from syncbucket.sessions.cache import ClientId, SessionCache, SessionState, state_fingerprint

log = logging.getLogger("syncbucket.sessions")

T = TypeVar("T")
S = TypeVar("S", bound=SerialisableSession)
DEFAULT_SESSION_TTL_S = 1200.0


class SessionSlot(Protocol):
    """Where the helper puts a session state for ``work`` to use, and reads it back."""

    def install(self, state: SessionState) -> None: ...

    def current(self) -> SessionState | None: ...


class SharedSession:
    """The cache + lock steps for one (client, portal); usable on its own as a re-login hook."""

    def __init__(
        self,
        cache: SessionCache,
        client_id: ClientId,
        portal: str,
        login: Callable[[], SessionState],
        *,
        ttl_s: float = DEFAULT_SESSION_TTL_S,
    ) -> None:
        self._cache = cache
        self._client_id = client_id
        self._portal = portal
        self._login = login
        self._ttl_s = ttl_s

    def obtain(self) -> SessionState:
        """The cached state, or a new one from the one login the lock allows."""
        cached = self._cache.get(self._client_id, self._portal)
        if cached is not None:
            return cached
        return self._under_lock(stale=None)

    def renew(self, expired: Mapping[str, str]) -> SessionState:
        """A replacement for ``expired``: someone else's fresh one, or our own login."""
        stale = state_fingerprint(expired)
        self._cache.invalidate(self._client_id, self._portal, only_if=stale)
        return self._under_lock(stale=stale)

    def adopt(self, state: Mapping[str, str]) -> None:
        """Publish a state the client obtained by itself."""
        self._cache.put(self._client_id, self._portal, state, self._ttl_s)

    def drop(self, state: Mapping[str, str]) -> None:
        """Forget ``state`` (lost by the portal), unless the cache already holds another."""
        self._cache.invalidate(self._client_id, self._portal, only_if=state_fingerprint(state))

    def _under_lock(self, stale: str | None) -> SessionState:
        with self._cache.login_lock(self._client_id, self._portal):
            cached = self._cache.get(self._client_id, self._portal)
            if cached is not None and state_fingerprint(cached) != stale:
                return cached
            log.info("%s: logging in for client %s", self._portal, self._client_id)
            state = self._login()
            self._cache.put(self._client_id, self._portal, state, self._ttl_s)
            return state


def with_shared_session(
    cache: SessionCache,
    client_id: ClientId,
    portal: str,
    client: SessionSlot,
    login: Callable[[], SessionState],
    work: Callable[[], T],
    *,
    ttl_s: float = DEFAULT_SESSION_TTL_S,
) -> T:
    """Run ``work`` on the client's shared session (the algorithm in the module docstring)."""
    shared = SharedSession(cache, client_id, portal, login, ttl_s=ttl_s)
    state = shared.obtain()
    client.install(state)
    try:
        result = work()
    except SessionExpired:
        log.info("%s session of client %s expired; renewing it once", portal, client_id)
        state = shared.renew(state)
        client.install(state)
        result = work()
    _write_back(shared, client, state)
    return result


def _write_back(shared: SharedSession, client: SessionSlot, installed: SessionState) -> None:
    now = client.current()
    if now is not None and state_fingerprint(now) != state_fingerprint(installed):
        shared.adopt(now)


class PortalClientSlot(Generic[S]):
    """Adapts a :class:`PortalClient` to the helper: ``install``/``current``/``login``."""

    def __init__(self, client: PortalClient[S], session_type: type[S]) -> None:
        self._client = client
        self._type = session_type

    def install(self, state: SessionState) -> None:
        self._client.session = self._type.from_dict(state)

    def current(self) -> SessionState | None:
        session = self._client.session
        return None if session is None else session.to_dict()

    def login(self) -> SessionState:
        return self._client.login().to_dict()
