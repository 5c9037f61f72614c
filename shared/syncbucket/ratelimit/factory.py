"""Choosing the limiter for a footprint: Redis when ``SYNCBUCKET_REDIS_URL`` is set, else
in-process (DESIGN §3.11)."""

from __future__ import annotations

from syncbucket.config import Settings
from syncbucket.ratelimit.limiter import RateLimiter, RateListener, limits_from_settings
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.redis_gcra import RedisRateLimiter


def build_limiter(settings: Settings, on_rate_change: RateListener | None = None) -> RateLimiter:
    limits = limits_from_settings(settings)
    if settings.redis_url:
        return RedisRateLimiter.from_url(settings.redis_url, limits, on_rate_change=on_rate_change)
    return InMemoryRateLimiter(limits, on_rate_change=on_rate_change)
