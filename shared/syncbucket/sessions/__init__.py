"""Shared portal sessions and the lockout breaker (docs/architecture.md §8, §9).

- :mod:`.cache`         the ``SessionCache`` protocol, fingerprints, errors
- :mod:`.memory_cache`  in-process cache (embedded footprint)
- :mod:`.redis_cache`   encrypted Redis cache with a cross-process login lock
- :mod:`.shared`        ``with_shared_session``: one login per client and portal
- :mod:`.breaker`       ``LoginBreaker``: no second login after a rejected one in a run
- :mod:`.factory`       the footprint's cache and guard from settings (Redis or in-process)
"""

from syncbucket.sessions.breaker import (
    InMemoryLoginBreaker,
    LoginBreaker,
    RedisLoginBreaker,
    breaker_error,
    guarded_login,
)
from syncbucket.sessions.cache import (
    LoginLockTimeout,
    SessionCache,
    SessionCacheUnavailable,
    SessionState,
    state_fingerprint,
)
from syncbucket.sessions.factory import build_login_breaker, build_login_guard, build_session_cache
from syncbucket.sessions.login_guard_redis import BreakerLoginGuard
from syncbucket.sessions.memory_cache import InMemorySessionCache
from syncbucket.sessions.redis_cache import RedisSessionCache
from syncbucket.sessions.shared import (
    PortalClientSlot,
    SessionSlot,
    SharedSession,
    with_shared_session,
)

__all__ = [
    "BreakerLoginGuard",
    "InMemoryLoginBreaker",
    "InMemorySessionCache",
    "LoginBreaker",
    "LoginLockTimeout",
    "PortalClientSlot",
    "RedisLoginBreaker",
    "RedisSessionCache",
    "SessionCache",
    "SessionCacheUnavailable",
    "SessionSlot",
    "SessionState",
    "SharedSession",
    "breaker_error",
    "build_login_breaker",
    "build_login_guard",
    "build_session_cache",
    "guarded_login",
    "state_fingerprint",
    "with_shared_session",
]
