"""The in-process session cache for the embedded footprint: same semantics as Redis.

States are kept as plain dicts in this process's memory (never written anywhere), with a
TTL on an injectable clock; the login lock is one ``threading.Lock`` per (client, portal)
with a bounded wait. Memory stays bounded: each ``put`` drops expired states, and a lock
is dropped once nobody holds or waits for it (counted under the guard, so two callers can
never end up with two different locks for one key).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

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


@dataclass
class _LockSlot:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0  # holding or waiting; guarded by the cache's ``_guard``


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
        self._locks: dict[str, _LockSlot] = {}
        self._guard = threading.Lock()

    def get(self, client_id: ClientId, portal: str) -> SessionState | None:
        key = cache_key(client_id, portal)
        with self._guard:
            entry = self._live(key)
            return None if entry is None else dict(entry.state)

    def put(self, client_id: ClientId, portal: str, state: Mapping[str, str], ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0 (got {ttl_s})")
        now = self._clock()
        entry = _Entry(dict(state), state_fingerprint(state), now + ttl_s)
        with self._guard:
            for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
                del self._entries[key]
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
            slot = self._locks.setdefault(key, _LockSlot())
            slot.users += 1
        try:
            if not slot.lock.acquire(timeout=self._lock_wait_s):
                raise LoginLockTimeout(portal, self._lock_wait_s)
            try:
                yield
            finally:
                slot.lock.release()
        finally:
            with self._guard:
                slot.users -= 1
                if slot.users == 0:
                    del self._locks[key]

    @property
    def sizes(self) -> tuple[int, int]:
        """(session states held, expired ones included until pruned; login locks held)."""
        with self._guard:
            return len(self._entries), len(self._locks)

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        return entry
