"""Every ratelimit_* / session_* / login_breaker_* setting reaches the object it configures."""

from __future__ import annotations

from syncbucket.config import load_settings
from syncbucket.crypto import CredentialCipher
from syncbucket.ratelimit import (
    InMemoryRateLimiter,
    RateLimitedTransport,
    RedisRateLimiter,
    adaptive_policy,
    build_limiter,
    portal_transports,
)
from syncbucket.sessions import (
    InMemoryLoginBreaker,
    InMemorySessionCache,
    RedisLoginBreaker,
    RedisSessionCache,
    build_login_breaker,
    build_session_cache,
)
from tests.support.db import TEST_KEY

TUNED = {
    "ratelimit_max_wait_seconds": 7.0,
    "ratelimit_slowdown_factor": 0.25,
    "ratelimit_slowdown_min_seconds": 3.0,
    "ratelimit_slowdown_max_seconds": 9.0,
    "ratelimit_slowdown_floor_factor": 0.125,
    "ratelimit_slowdown_compound_after_seconds": 1.5,
    "ratelimit_error_burst_count": 2,
    "ratelimit_error_burst_window_seconds": 4.0,
    "session_login_lock_lease_seconds": 11.0,
    "session_login_lock_wait_seconds": 12.0,
    "login_breaker_ttl_seconds": 13.0,
}


def test_the_adaptive_policy_comes_from_the_settings() -> None:
    policy = adaptive_policy(load_settings(**TUNED))
    assert (policy.factor, policy.min_duration_s, policy.max_duration_s) == (0.25, 3.0, 9.0)
    assert (policy.error_burst, policy.error_window_s, policy.max_wait_s) == (2, 4.0, 7.0)


def test_in_process_limiter_without_redis_with_the_slow_down_rules() -> None:
    limiter = build_limiter(load_settings(redis_url=None, **TUNED))
    assert isinstance(limiter, InMemoryRateLimiter)
    assert limiter._compound_after_s == 1.5 and limiter._min_factor == 0.125
    change = limiter.slow_down("traces", 0.01, 5.0, "test")
    assert change.factor == 0.125  # the floor


def test_redis_limiter_when_redis_is_configured() -> None:
    settings = load_settings(redis_url="redis://127.0.0.1:1/0", **TUNED)
    limiter = build_limiter(settings)
    assert isinstance(limiter, RedisRateLimiter)
    assert limiter._compound_after_us == 1_500_000 and limiter._min_factor == 0.125


def test_one_paced_transport_per_portal_sharing_one_limiter() -> None:
    transports = portal_transports(load_settings(redis_url=None))
    assert set(transports) == {"traces", "itportal"}
    assert all(isinstance(t, RateLimitedTransport) for t in transports.values())
    limiters = {id(t._limiter) for t in transports.values() if isinstance(t, RateLimitedTransport)}
    assert len(limiters) == 1


def test_sessions_and_breaker_follow_the_footprint() -> None:
    cipher = CredentialCipher(TEST_KEY)
    local = load_settings(redis_url=None, **TUNED)
    shared = load_settings(redis_url="redis://127.0.0.1:1/0", **TUNED)
    memory = build_session_cache(local, cipher)
    assert isinstance(memory, InMemorySessionCache) and memory._lock_wait_s == 12.0
    redis_cache = build_session_cache(shared, cipher)
    assert isinstance(redis_cache, RedisSessionCache)
    assert (redis_cache._lease_ms, redis_cache._lock_wait_s) == (11_000, 12.0)
    memory_breaker = build_login_breaker(local)
    assert isinstance(memory_breaker, InMemoryLoginBreaker) and memory_breaker._ttl_s == 13.0
    redis_breaker = build_login_breaker(shared)
    assert isinstance(redis_breaker, RedisLoginBreaker) and redis_breaker._ttl_ms == 13_000
