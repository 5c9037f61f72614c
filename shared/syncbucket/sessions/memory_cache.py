"""The in-process session cache for the embedded footprint: same semantics as Redis.

States are kept as plain dicts in this process's memory (never written anywhere), with a
TTL on an injectable clock; the login lock is one ``threading.Lock`` per (client, portal)
with a bounded wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from syncbucket.sessions.cache import (
    ClientId,
    LoginLockTimeout,
    SessionState,
    cache_key,
    state_fingerprint,
)


@dataclass(frozen=True)
class _Entry:
    state: SessionState
    fingerprint: str
    expires_at: float


class InMemorySessionCache:
    def __init__(
        self,
        *,
        lock_wait_s: float = 180.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock_wait_s = lock_wait_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, client_id: ClientId, portal: str) -> SessionState | None:
        key = cache_key(client_id, portal)
        with self._guard:
            entry = self._live(key)
            return None if entry is None else dict(entry.state)

    def put(self, client_id: ClientId, portal: str, state: Mapping[str, str], ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0 (got {ttl_s})")
        entry = _Entry(dict(state), state_fingerprint(state), self._clock() + ttl_s)
        with self._guard:
            self._entries[cache_key(client_id, portal)] = entry

    def invalidate(self, client_id: ClientId, portal: str, only_if: str | None = None) -> bool:
        key = cache_key(client_id, portal)
        with self._guard:
            entry = self._live(key)
            if entry is None or (only_if is not None and entry.fingerprint != only_if):
                return False
            del self._entries[key]
            return True

    @contextmanager
    def login_lock(self, client_id: ClientId, portal: str) -> Iterator[None]:
        key = cache_key(client_id, portal)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        if not lock.acquire(timeout=self._lock_wait_s):
            raise LoginLockTimeout(portal, self._lock_wait_s)
        try:
            yield
        finally:
            lock.release()

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        return entry
