"""The session cache and the lockout guard of a footprint, from settings.

With ``SYNCBUCKET_REDIS_URL`` set, both live in Redis, so every worker process and host
shares one login per (client, portal) and one memory of rejected logins per run
(docs/architecture.md §8, §9); without it (the embedded footprint) both are in-process.

| setting | goes to |
|---|---|
| ``session_cache_ttl_seconds`` | how long a cached session is reused (``put`` TTL) |
| ``session_login_lock_lease_seconds`` | Redis login-lock lease (a dead holder frees it) |
| ``session_login_lock_wait_seconds`` | how long a caller waits for another's login |
| ``login_breaker_ttl_seconds`` | how long a rejected login is remembered per run |
"""

from __future__ import annotations

import logging

from syncbucket.config import Settings
from syncbucket.crypto import CredentialCipher
from syncbucket.sessions.breaker import InMemoryLoginBreaker, LoginBreaker, RedisLoginBreaker
from syncbucket.sessions.cache import SessionCache
from syncbucket.sessions.login_guard_redis import BreakerLoginGuard
from syncbucket.sessions.memory_cache import InMemorySessionCache
from syncbucket.sessions.redis_cache import RedisSessionCache

log = logging.getLogger("syncbucket.sessions")


def build_session_cache(settings: Settings, cipher: CredentialCipher) -> SessionCache:
    """Encrypted Redis cache with a cross-process login lock, else the in-process one."""
    check_lock_settings(settings)
    if settings.redis_url:
        return RedisSessionCache.from_url(
            settings.redis_url,
            cipher,
            prefix=f"{settings.redis_key_prefix}:session",
            lock_lease_s=settings.session_login_lock_lease_seconds,
            lock_wait_s=settings.session_login_lock_wait_seconds,
        )
    return InMemorySessionCache(lock_wait_s=settings.session_login_lock_wait_seconds)


def check_lock_settings(settings: Settings) -> None:
    """Warn about login-lock settings that turn one dead worker into failed items.

    A worker that dies holding a client's login lock blocks that client's logins for the
    lease; items waiting on it must outlive the lease (item time limit) and keep waiting
    that long (lock wait), or they time out and fail.
    """
    lease = settings.session_login_lock_lease_seconds
    if lease >= settings.item_time_limit_seconds:
        log.warning(
            "SYNCBUCKET_SESSION_LOGIN_LOCK_LEASE_SECONDS (%g) is not below "
            "SYNCBUCKET_ITEM_TIME_LIMIT_SECONDS (%g): a worker dying during a login makes "
            "that client's other items time out",
            lease,
            settings.item_time_limit_seconds,
        )
    if settings.session_login_lock_wait_seconds < lease:
        log.warning(
            "SYNCBUCKET_SESSION_LOGIN_LOCK_WAIT_SECONDS (%g) is below the lock lease (%g): "
            "items give up before a dead holder's lock frees itself",
            settings.session_login_lock_wait_seconds,
            lease,
        )


def build_login_breaker(settings: Settings) -> LoginBreaker:
    ttl_s = settings.login_breaker_ttl_seconds
    if settings.redis_url:
        return RedisLoginBreaker.from_url(
            settings.redis_url, ttl_s=ttl_s, prefix=f"{settings.redis_key_prefix}:login-breaker"
        )
    return InMemoryLoginBreaker(ttl_s=ttl_s)


def build_login_guard(settings: Settings) -> BreakerLoginGuard:
    """The pipeline's ``LoginGuard`` over the footprint's breaker."""
    return BreakerLoginGuard(build_login_breaker(settings))
