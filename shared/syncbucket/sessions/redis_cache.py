"""The shared session cache on Redis: encrypted at rest, with a TTL, and a login lock.

Keys (``<prefix>`` defaults to ``syncbucket:session``)::

    <prefix>:state:<portal>:<client>   "<fingerprint>:<Fernet token>"   PX = session TTL
    <prefix>:lock:<portal>:<client>    random lock token                PX = lock lease

The state is encrypted with :meth:`CredentialCipher.encrypt_bytes` (session tokens are
credentials too); the plaintext names its own key, so a blob copied to another client's key
is refused. The fingerprint in front is a one-way digest that lets ``invalidate(only_if=)``
compare in one atomic script without decrypting. The lock is ``SET NX PX`` with a random
token, released only by its holder (compare-and-delete script); a holder that dies frees it
when the lease runs out, so the lease must exceed the slowest login (captcha + login +
pre-auth, each request rate-limited and bounded by the read timeout).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import redis

from syncbucket.crypto import CredentialCipher, DecryptionFailed
from syncbucket.sessions.cache import (
    ClientId,
    LoginLockTimeout,
    SessionCacheUnavailable,
    SessionState,
    cache_key,
    state_fingerprint,
)

log = logging.getLogger("syncbucket.sessions")
T = TypeVar("T")

# KEYS: state. ARGV: fingerprint. -> 1 if deleted
INVALIDATE_IF_LUA = """
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: lock. ARGV: token. -> 1 if released
RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisSessionCache:
    def __init__(
        self,
        client: redis.Redis[bytes],
        cipher: CredentialCipher,
        *,
        prefix: str = "syncbucket:session",
        lock_lease_s: float = 120.0,
        lock_wait_s: float = 180.0,
    ) -> None:
        self._redis = client
        self._cipher = cipher
        self._prefix = prefix
        self._lease_ms = max(1, round(lock_lease_s * 1000))
        self._lock_wait_s = lock_wait_s
        self._invalidate_if = client.register_script(INVALIDATE_IF_LUA)
        self._release = client.register_script(RELEASE_LUA)

    @classmethod
    def from_url(cls, url: str, cipher: CredentialCipher, **options: Any) -> RedisSessionCache:
        client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        return cls(client, cipher, **options)

    def get(self, client_id: ClientId, portal: str) -> SessionState | None:
        key = self._key("state", client_id, portal)
        raw = _guarded(portal, lambda: self._redis.get(key))
        if raw is None:
            return None
        _, _, token = raw.partition(b":")
        try:
            body = json.loads(self._cipher.decrypt_bytes(token))
        except (DecryptionFailed, ValueError):
            log.warning(
                "cached %s session of client %s is unreadable; ignoring it", portal, client_id
            )
            return None
        if not isinstance(body, dict) or body.get("k") != key:
            log.warning(
                "cached %s session of client %s belongs elsewhere; ignoring it", portal, client_id
            )
            return None
        return {str(k): str(v) for k, v in body["s"].items()}

    def put(self, client_id: ClientId, portal: str, state: Mapping[str, str], ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be > 0 (got {ttl_s})")
        key = self._key("state", client_id, portal)
        plain = json.dumps({"k": key, "s": dict(state)}).encode("utf-8")
        value = state_fingerprint(state).encode("ascii") + b":" + self._cipher.encrypt_bytes(plain)
        _guarded(portal, lambda: self._redis.set(key, value, px=max(1, round(ttl_s * 1000))))

    def invalidate(self, client_id: ClientId, portal: str, only_if: str | None = None) -> bool:
        key = self._key("state", client_id, portal)
        if only_if is None:
            return bool(_guarded(portal, lambda: self._redis.delete(key)))
        return bool(_guarded(portal, lambda: self._invalidate_if(keys=[key], args=[only_if])))

    @contextmanager
    def login_lock(self, client_id: ClientId, portal: str) -> Iterator[None]:
        key = self._key("lock", client_id, portal)
        token = secrets.token_hex(16)
        self._take(key, token, portal)
        try:
            yield
        finally:
            if not _guarded(portal, lambda: self._release(keys=[key], args=[token])):
                log.warning("the %s login lock of client %s outlived its lease", portal, client_id)

    def _take(self, key: str, token: str, portal: str) -> None:
        deadline = time.monotonic() + self._lock_wait_s
        pause = 0.01
        while not _guarded(portal, lambda: self._redis.set(key, token, nx=True, px=self._lease_ms)):
            if time.monotonic() >= deadline:
                raise LoginLockTimeout(portal, self._lock_wait_s)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.2)

    def _key(self, kind: str, client_id: ClientId, portal: str) -> str:
        return f"{self._prefix}:{kind}:{cache_key(client_id, portal)}"


def _guarded(portal: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except redis.RedisError as exc:
        raise SessionCacheUnavailable(portal, type(exc).__name__) from exc
