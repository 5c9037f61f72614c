"""Building the limiter and the paced transports of a footprint from settings.

Redis when ``SYNCBUCKET_REDIS_URL`` is set (shared by every process and host), else
in-process (docs/architecture.md §11). Every ``ratelimit_*`` setting lands here:

| setting | goes to |
|---|---|
| ``<portal>_rate_per_second``, ``<portal>_burst`` | :class:`PortalLimit` per portal |
| ``ratelimit_slowdown_compound_after_seconds`` | limiter ``compound_after_s`` |
| ``ratelimit_slowdown_floor_factor`` | limiter ``min_factor`` |
| ``ratelimit_slowdown_factor``, ``ratelimit_slowdown_min/max_seconds`` | :class:`AdaptivePolicy` |
| ``ratelimit_error_burst_count``, ``ratelimit_error_burst_window_seconds`` | the policy |
| ``ratelimit_max_wait_seconds`` | the policy (a longer wait is logged) |
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from syncbucket.config import Settings
from syncbucket.domain.portals import Portal
from syncbucket.ratelimit.bursts import ErrorBurstDetector
from syncbucket.ratelimit.limiter import RateLimiter, RateListener, limits_from_settings
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.redis_gcra import RedisRateLimiter
from syncbucket.ratelimit.transport import (
    AdaptivePolicy,
    RateLimitedTransport,
    ResponseHook,
    SlowDownHook,
    WaitHook,
)


@dataclass(frozen=True)
class TransportHooks:
    """Observers of the paced transports (metrics); all optional, none may raise."""

    on_wait: WaitHook | None = None
    on_response: ResponseHook | None = None
    on_slowdown: SlowDownHook | None = None
    on_rate_change: RateListener | None = None


def build_limiter(settings: Settings, on_rate_change: RateListener | None = None) -> RateLimiter:
    limits = limits_from_settings(settings)
    compound_after_s = settings.ratelimit_slowdown_compound_after_seconds
    min_factor = settings.ratelimit_slowdown_floor_factor
    if settings.redis_url:
        return RedisRateLimiter.from_url(
            settings.redis_url,
            limits,
            prefix=f"{settings.redis_key_prefix}:ratelimit",
            compound_after_s=compound_after_s,
            min_factor=min_factor,
            on_rate_change=on_rate_change,
        )
    return InMemoryRateLimiter(
        limits,
        compound_after_s=compound_after_s,
        min_factor=min_factor,
        on_rate_change=on_rate_change,
    )


def adaptive_policy(settings: Settings) -> AdaptivePolicy:
    return AdaptivePolicy(
        factor=settings.ratelimit_slowdown_factor,
        min_duration_s=settings.ratelimit_slowdown_min_seconds,
        max_duration_s=max(
            settings.ratelimit_slowdown_max_seconds, settings.ratelimit_slowdown_min_seconds
        ),
        error_burst=settings.ratelimit_error_burst_count,
        error_window_s=settings.ratelimit_error_burst_window_seconds,
        max_wait_s=settings.ratelimit_max_wait_seconds,
    )


def portal_transports(
    settings: Settings,
    *,
    hooks: TransportHooks | None = None,
    policy: AdaptivePolicy | None = None,
    limiter: RateLimiter | None = None,
) -> dict[str, httpx.BaseTransport]:
    """One pooled, paced transport per portal, shared by every portal client of the process.

    The limiter is shared by both portals (one Redis connection pool); each portal has its
    own 5xx-burst detector. ``policy`` overrides the settings' (the demo tolerates more 5xx).
    """
    hooks = hooks or TransportHooks()
    limiter = limiter or build_limiter(settings, hooks.on_rate_change)
    policy = policy or adaptive_policy(settings)
    return {
        portal.value: RateLimitedTransport(
            httpx.HTTPTransport(),
            limiter,
            portal.value,
            policy=policy,
            errors=ErrorBurstDetector(policy.error_burst, policy.error_window_s),
            on_wait=hooks.on_wait,
            on_response=hooks.on_response,
            on_slowdown=hooks.on_slowdown,
        )
        for portal in Portal
    }
