"""The Redis session cache and breaker on a real Redis: encryption at rest, TTL, the
cross-process login lock (one re-login across two processes)."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from syncbucket.crypto import CredentialCipher
from syncbucket.portals.errors import SessionExpired
from syncbucket.sessions.breaker import RedisLoginBreaker
from syncbucket.sessions.cache import state_fingerprint
from syncbucket.sessions.redis_cache import RedisSessionCache
from syncbucket.sessions.shared import with_shared_session

pytestmark = pytest.mark.integration
P = "traces"
KEY = "integration-test-secret-key-0123456789abcdef"
TOKEN = "tok-SECRET-abcdef0123456789"


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    name = f"test:{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def cache_at(url: str, prefix: str, **kw: float) -> RedisSessionCache:
    return RedisSessionCache.from_url(url, CredentialCipher(KEY), prefix=f"{prefix}:session", **kw)


def test_round_trip_is_encrypted_at_rest_with_a_ttl(redis_url: str, prefix: str) -> None:
    cache = cache_at(redis_url, prefix)
    state = {"access_token": TOKEN, "jsessionid": "JS-SECRET-1"}
    cache.put(42, P, state, ttl_s=90)
    assert cache.get(42, P) == state
    client = redis.Redis.from_url(redis_url)
    key = f"{prefix}:session:state:{P}:42"
    raw = client.get(key)
    assert raw is not None
    assert b"SECRET" not in raw and TOKEN.encode() not in raw
    assert 89_000 < client.pttl(key) <= 90_000
    other_key = cache_at(redis_url, prefix)
    other_key._cipher = CredentialCipher("a-different-secret-key-0123456789abcdef")
    assert other_key.get(42, P) is None  # unreadable, not an error


def test_a_blob_moved_to_another_client_is_refused(redis_url: str, prefix: str) -> None:
    cache = cache_at(redis_url, prefix)
    cache.put(1, P, {"t": TOKEN}, ttl_s=60)
    client = redis.Redis.from_url(redis_url)
    raw = client.get(f"{prefix}:session:state:{P}:1")
    assert raw is not None
    client.set(f"{prefix}:session:state:{P}:2", raw)
    assert cache.get(2, P) is None


def test_invalidate_only_if_the_same_state(redis_url: str, prefix: str) -> None:
    cache = cache_at(redis_url, prefix)
    old, new = {"t": "old"}, {"t": "new"}
    cache.put(1, P, new, ttl_s=60)
    assert not cache.invalidate(1, P, only_if=state_fingerprint(old))
    assert cache.get(1, P) == new
    assert cache.invalidate(1, P, only_if=state_fingerprint(new))
    assert cache.get(1, P) is None


def test_lock_is_released_only_by_its_holder_and_expires(redis_url: str, prefix: str) -> None:
    cache = cache_at(redis_url, prefix, lock_lease_s=0.3, lock_wait_s=2)
    client = redis.Redis.from_url(redis_url)
    lock_key = f"{prefix}:session:lock:{P}:1"
    started = time.monotonic()
    with cache.login_lock(1, P):
        assert client.get(lock_key) is not None
        assert 0 < client.pttl(lock_key) <= 300
    assert client.get(lock_key) is None
    client.set(lock_key, b"held-by-a-dead-process", px=300)
    with cache.login_lock(1, P):  # waits for the dead holder's lease to run out
        assert time.monotonic() - started >= 0.25


def _one_process(url: str, prefix: str, threads: int, start: float) -> list[str]:
    """One worker process: ``threads`` items of client 42 start on an expired session at
    ``start`` (wall clock, same host), so the two processes contend for the lock."""
    cache = cache_at(url, prefix)
    portal = redis.Redis.from_url(url)
    valid_key, logins_key = f"{prefix}:portal:valid", f"{prefix}:portal:logins"

    def login() -> dict[str, str]:
        time.sleep(0.2)  # a captcha + login + pre-auth takes a while
        token = f"tok-{portal.incr(logins_key)}-{os.getpid()}"
        portal.set(valid_key, token)
        return {"token": token}

    def item(barrier: threading.Barrier) -> str:
        slot: dict[str, dict[str, str]] = {}

        def work() -> str:
            if portal.get(valid_key) != slot["s"]["token"].encode():
                raise SessionExpired("expired", portal=P)
            return slot["s"]["token"]

        barrier.wait()
        time.sleep(max(0.0, start - time.time()))
        return with_shared_session(cache, 42, P, _DictSlot(slot), login, work, ttl_s=600)

    barrier = threading.Barrier(threads)
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: item(barrier), range(threads)))


class _DictSlot:
    def __init__(self, holder: dict[str, dict[str, str]]) -> None:
        self._holder = holder

    def install(self, state: dict[str, str]) -> None:
        self._holder["s"] = state

    def current(self) -> dict[str, str] | None:
        return self._holder.get("s")


def test_two_processes_expired_session_cause_exactly_one_relogin(
    redis_url: str, prefix: str
) -> None:
    cache_at(redis_url, prefix).put(42, P, {"token": "tok-expired"}, ttl_s=600)
    redis.Redis.from_url(redis_url).set(f"{prefix}:portal:valid", "tok-current-elsewhere")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        parts = pool.starmap(_one_process, [(redis_url, prefix, 10, time.time() + 2.0)] * 2)
    tokens = {token for part in parts for token in part}
    assert redis.Redis.from_url(redis_url).get(f"{prefix}:portal:logins") == b"1"
    assert len(tokens) == 1 and sum(len(part) for part in parts) == 20


def test_redis_breaker(redis_url: str, prefix: str) -> None:
    breaker = RedisLoginBreaker.from_url(redis_url, prefix=f"{prefix}:breaker", ttl_s=3600)
    assert breaker.tripped(7, 42, P) is None
    breaker.trip(7, 42, P, "locked")
    other = RedisLoginBreaker.from_url(redis_url, prefix=f"{prefix}:breaker")
    assert other.tripped(7, 42, P) == "locked"
    assert other.tripped(8, 42, P) is None
    ttl = redis.Redis.from_url(redis_url).pttl(f"{prefix}:breaker:7:{P}:42")
    assert 3_599_000 < ttl <= 3_600_000
