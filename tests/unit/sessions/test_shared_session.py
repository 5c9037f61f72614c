"""with_shared_session: one login per client and portal, however many callers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from syncbucket.portals.errors import InvalidCredentials, SessionExpired
from syncbucket.sessions.breaker import InMemoryLoginBreaker, guarded_login
from syncbucket.sessions.cache import SessionCache
from syncbucket.sessions.memory_cache import InMemorySessionCache
from syncbucket.sessions.shared import SharedSession, with_shared_session
from tests.unit.ratelimit.clock import FakeClock
from tests.unit.sessions.portal import OneSessionPortal, Slot

P = "traces"


def hammer(
    cache: SessionCache,
    portal: OneSessionPortal,
    login: Callable[[], dict[str, str]],
    n: int = 20,
) -> list[str]:
    barrier = threading.Barrier(n)

    def one(_: int) -> str:
        slot = Slot()
        barrier.wait()
        return with_shared_session(
            cache,
            42,
            P,
            slot,
            login,
            lambda: portal.work(slot),
            ttl_s=600,
        )

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_twenty_callers_with_an_expired_cached_session_cause_exactly_one_login() -> None:
    cache = InMemorySessionCache()
    portal = OneSessionPortal()
    cache.put(42, P, {"token": "tok-expired"}, ttl_s=600)
    results = hammer(cache, portal, portal.login)
    assert portal.logins == 1
    assert results == ["tok-SECRET-1"] * 20
    assert cache.get(42, P) == {"token": "tok-SECRET-1"}


def test_twenty_callers_with_no_session_cause_exactly_one_login() -> None:
    cache = InMemorySessionCache()
    portal = OneSessionPortal()
    assert hammer(cache, portal, portal.login) == ["tok-SECRET-1"] * 20
    assert portal.logins == 1


def test_a_valid_cached_session_is_used_without_login() -> None:
    cache = InMemorySessionCache()
    portal = OneSessionPortal()
    cache.put(42, P, {"token": "tok-0"}, ttl_s=600)
    slot = Slot()
    assert (
        with_shared_session(cache, 42, P, slot, portal.login, lambda: portal.work(slot)) == "tok-0"
    )
    assert portal.logins == 0


def test_a_cached_session_past_its_ttl_is_replaced_by_one_login() -> None:
    clock = FakeClock()
    cache = InMemorySessionCache(clock=clock)
    portal = OneSessionPortal(login_seconds=0)
    cache.put(42, P, {"token": "tok-0"}, ttl_s=60)
    clock.advance(61)
    slot = Slot()
    with_shared_session(cache, 42, P, slot, portal.login, lambda: portal.work(slot))
    assert portal.logins == 1


def test_a_second_expiry_propagates() -> None:
    cache = InMemorySessionCache()
    logins = []

    def login() -> dict[str, str]:
        logins.append(1)
        return {"token": f"t{len(logins)}"}

    def work() -> str:
        raise SessionExpired("gone", portal=P)

    with pytest.raises(SessionExpired):
        with_shared_session(cache, 1, P, Slot(), login, work)
    assert len(logins) == 2


def test_renew_keeps_a_session_someone_else_already_refreshed() -> None:
    cache = InMemorySessionCache()
    portal = OneSessionPortal(login_seconds=0)
    shared = SharedSession(cache, 42, P, portal.login)
    old = shared.obtain()
    fresh = shared.renew(old)  # first caller logs in
    assert shared.renew(old) == fresh  # a late caller with the same expired state does not
    assert portal.logins == 2


def test_a_session_the_client_renewed_itself_is_written_back() -> None:
    cache = InMemorySessionCache()
    slot = Slot()

    def work() -> None:
        slot.install({"token": "self-renewed"})

    with_shared_session(cache, 1, P, slot, lambda: {"token": "first"}, work)
    assert cache.get(1, P) == {"token": "self-renewed"}


def test_rejected_login_under_concurrency_is_tried_once_then_breaker_fails_fast() -> None:
    cache = InMemorySessionCache()
    breaker = InMemoryLoginBreaker()
    portal = OneSessionPortal(reject=True)
    results: list[str] = []
    login = guarded_login(breaker, 9, 42, P, portal.login, lambda p, r: results.append(r))
    barrier = threading.Barrier(20)

    def one(_: int) -> str:
        slot = Slot()
        barrier.wait()
        try:
            with_shared_session(cache, 42, P, slot, login, lambda: portal.work(slot))
        except InvalidCredentials as exc:
            return str(exc.code)
        return "ok"

    with ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(one, range(20)))
    assert portal.logins == 1
    assert codes == ["invalid_credentials"] * 20
    assert sorted(results) == ["rejected"] + ["skipped_breaker"] * 19
