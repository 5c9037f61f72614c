"""Global per-portal rate limits for every portal HTTP request (docs/architecture.md §3).

- :mod:`.limiter`    the ``RateLimiter`` protocol, the GCRA math, slow-down rules
- :mod:`.memory`     in-process limiter (embedded footprint)
- :mod:`.redis_gcra` shared limiter: one atomic Lua script per request on Redis
- :mod:`.transport`  ``RateLimitedTransport``: paces requests, slows down on 429 / 5xx bursts
- :mod:`.factory`    ``build_limiter``, ``adaptive_policy``, ``portal_transports`` from settings
"""

from syncbucket.ratelimit.bursts import ErrorBurstDetector
from syncbucket.ratelimit.factory import (
    TransportHooks,
    adaptive_policy,
    build_limiter,
    portal_transports,
)
from syncbucket.ratelimit.limiter import (
    PortalLimit,
    RateChange,
    RateLimiter,
    RateLimiterUnavailable,
    SlowDown,
    limits_from_settings,
)
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.redis_gcra import RedisRateLimiter, Slot
from syncbucket.ratelimit.transport import AdaptivePolicy, RateLimitedTransport

__all__ = [
    "AdaptivePolicy",
    "ErrorBurstDetector",
    "InMemoryRateLimiter",
    "PortalLimit",
    "RateChange",
    "RateLimitedTransport",
    "RateLimiter",
    "RateLimiterUnavailable",
    "RedisRateLimiter",
    "Slot",
    "SlowDown",
    "TransportHooks",
    "adaptive_policy",
    "build_limiter",
    "limits_from_settings",
    "portal_transports",
]
