"""The in-process session cache: TTL, conditional invalidation, the login lock."""

from __future__ import annotations

import threading
import time

import pytest

from syncbucket.sessions.cache import LoginLockTimeout, state_fingerprint
from syncbucket.sessions.memory_cache import InMemorySessionCache
from tests.unit.ratelimit.clock import FakeClock

STATE = {"access_token": "a", "jsessionid": "j"}


def test_round_trip_and_expiry() -> None:
    clock = FakeClock()
    cache = InMemorySessionCache(clock=clock)
    cache.put(7, "traces", STATE, ttl_s=60)
    assert cache.get(7, "traces") == STATE
    assert cache.get(7, "itportal") is None
    assert cache.get(8, "traces") is None
    clock.advance(59.9)
    assert cache.get(7, "traces") == STATE
    clock.advance(0.2)
    assert cache.get(7, "traces") is None


def test_get_returns_a_copy() -> None:
    cache = InMemorySessionCache()
    cache.put(1, "traces", STATE, ttl_s=60)
    got = cache.get(1, "traces")
    assert got is not None
    got["access_token"] = "changed"
    assert cache.get(1, "traces") == STATE


def test_invalidate_only_if_the_fingerprint_still_matches() -> None:
    cache = InMemorySessionCache()
    cache.put(1, "traces", STATE, ttl_s=60)
    newer = {**STATE, "access_token": "b"}
    cache.put(1, "traces", newer, ttl_s=60)
    assert not cache.invalidate(1, "traces", only_if=state_fingerprint(STATE))
    assert cache.get(1, "traces") == newer
    assert cache.invalidate(1, "traces", only_if=state_fingerprint(newer))
    assert cache.get(1, "traces") is None
    assert not cache.invalidate(1, "traces")


def test_login_lock_is_exclusive_per_client_and_portal() -> None:
    cache = InMemorySessionCache(lock_wait_s=0.2)
    with cache.login_lock(1, "traces"):
        with cache.login_lock(1, "itportal"), cache.login_lock(2, "traces"):
            pass
        errors: list[LoginLockTimeout] = []

        def other() -> None:
            try:
                with cache.login_lock(1, "traces"):
                    pass
            except LoginLockTimeout as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        started = time.monotonic()
        thread.start()
        thread.join()
    assert len(errors) == 1 and time.monotonic() - started >= 0.19
    assert errors[0].code == "portal_timeout"
    with cache.login_lock(1, "traces"):
        pass


def test_fingerprint_is_stable_and_one_way() -> None:
    assert state_fingerprint({"b": "2", "a": "1"}) == state_fingerprint({"a": "1", "b": "2"})
    assert "SECRET" not in state_fingerprint({"t": "SECRET"})
    assert len(state_fingerprint(STATE)) == 32


def test_bad_inputs_are_refused() -> None:
    cache = InMemorySessionCache()
    with pytest.raises(ValueError, match="ttl_s"):
        cache.put(1, "traces", STATE, ttl_s=0)
    with pytest.raises(ValueError, match="client id"):
        cache.get("a:b", "traces")


def test_put_prunes_expired_states() -> None:
    clock = FakeClock()
    cache = InMemorySessionCache(clock=clock)
    for client_id in range(20):
        cache.put(client_id, "traces", STATE, ttl_s=60)
    cache.put(99, "itportal", STATE, ttl_s=600)
    assert cache.sizes == (21, 0)
    clock.advance(61)
    cache.put(100, "traces", STATE, ttl_s=60)
    assert cache.sizes == (2, 0)
    assert cache.get(99, "itportal") == STATE and cache.get(0, "traces") is None


def test_login_locks_are_dropped_once_nobody_holds_or_waits_for_them() -> None:
    cache = InMemorySessionCache(lock_wait_s=5.0)
    for client_id in range(10):
        with cache.login_lock(client_id, "traces"):
            assert cache.sizes[1] == 1
    assert cache.sizes == (0, 0)
    inside = threading.Event()
    waiting = threading.Event()
    order: list[str] = []

    def holder() -> None:
        with cache.login_lock(1, "traces"):
            inside.set()
            assert waiting.wait(5.0)
            time.sleep(0.05)  # the waiter is now blocked on the same lock
            order.append("holder")

    def waiter() -> None:
        assert inside.wait(5.0)
        waiting.set()
        with cache.login_lock(1, "traces"):
            order.append("waiter")

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert order == ["holder", "waiter"]  # still exclusive while the lock is shared
    assert cache.sizes == (0, 0)


def test_a_timed_out_waiter_releases_its_claim_on_the_lock() -> None:
    cache = InMemorySessionCache(lock_wait_s=0.05)
    with cache.login_lock(1, "traces"):
        with pytest.raises(LoginLockTimeout), cache.login_lock(1, "traces"):
            pass
        assert cache.sizes[1] == 1
    assert cache.sizes == (0, 0)
