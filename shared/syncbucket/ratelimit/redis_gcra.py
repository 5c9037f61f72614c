"""The shared limiter: GCRA in one atomic Redis Lua script per request (docs/architecture.md §3).

Every process and host reserves from the same schedule. The script reads Redis server
``TIME``, so hosts' clocks never matter; times are integer microseconds. Keys (one hash tag
per portal, so a cluster keeps them on one node)::

    <prefix>:{<portal>}:tat    the theoretical arrival time; expires once it is in the past
    <prefix>:{<portal>}:slow   hash factor/since/until of a slow-down; expires at ``until``

A slow-down stored in Redis applies to every process at its next ``acquire``; when the key
expires the full rate is back (recovery needs no one to act).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import redis

from syncbucket.ratelimit.limiter import (
    DEFAULT_COMPOUND_AFTER_S,
    DEFAULT_MIN_FACTOR,
    PortalLimit,
    RateLimiterUnavailable,
    RateListener,
    RateWatch,
    SlowDown,
    check_slow_down_args,
    limit_of,
)

T = TypeVar("T")
US = 1_000_000

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: tat, slow. ARGV: rate, burst. -> {wait_us, send_at_us, factor, now_us}
ACQUIRE_LUA = (
    _NOW
    + """
local factor = tonumber(redis.call('HGET', KEYS[2], 'factor') or '1')
local interval = math.ceil(1000000 / (tonumber(ARGV[1]) * factor))
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local send_at = tat - (tonumber(ARGV[2]) - 1) * interval
if send_at < now then send_at = now end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new_tat),
           'PX', math.ceil((new_tat - now) / 1000) + 1000)
return {string.format('%.0f', send_at - now), string.format('%.0f', send_at),
        tostring(factor), string.format('%.0f', now)}
"""
)

# KEYS: slow. ARGV: factor, duration_us, compound_after_us, min_factor.
# -> {factor, remaining_us, compounded 0|1, now_us}; mirrors limiter.combine_slow_down.
SLOW_DOWN_LUA = (
    _NOW
    + """
local factor = tonumber(ARGV[1])
local until_ = now + tonumber(ARGV[2])
local since = now
local compounded = 0
local cur = redis.call('HMGET', KEYS[1], 'factor', 'since', 'until')
if cur[1] and tonumber(cur[3]) > now then
  if tonumber(cur[3]) > until_ then until_ = tonumber(cur[3]) end
  if now - tonumber(cur[2]) < tonumber(ARGV[3]) then
    factor = math.min(tonumber(cur[1]), factor)
    since = tonumber(cur[2])
  else
    factor = tonumber(cur[1]) * factor
    compounded = 1
  end
end
factor = math.max(factor, tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], 'factor', tostring(factor),
           'since', string.format('%.0f', since), 'until', string.format('%.0f', until_))
redis.call('PEXPIRE', KEYS[1], math.ceil((until_ - now) / 1000))
return {tostring(factor), string.format('%.0f', until_ - now), compounded,
        string.format('%.0f', now)}
"""
)

# KEYS: slow. -> {factor, now_us}
FACTOR_LUA = (
    _NOW
    + """
return {redis.call('HGET', KEYS[1], 'factor') or '1', string.format('%.0f', now)}
"""
)


@dataclass(frozen=True)
class Slot:
    """One reservation: wait before sending, the send time (server clock), the factor."""

    wait_s: float
    send_at_s: float
    factor: float


class RedisRateLimiter:
    """GCRA per portal shared through Redis by every process."""

    def __init__(
        self,
        client: redis.Redis[bytes],
        limits: Mapping[str, PortalLimit],
        *,
        prefix: str = "syncbucket:ratelimit",
        compound_after_s: float = DEFAULT_COMPOUND_AFTER_S,
        min_factor: float = DEFAULT_MIN_FACTOR,
        on_rate_change: RateListener | None = None,
    ) -> None:
        self._redis = client
        self._limits = dict(limits)
        self._prefix = prefix
        self._compound_after_us = round(compound_after_s * US)
        self._min_factor = min_factor
        self._watch = RateWatch(on_rate_change)
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._slow_down = client.register_script(SLOW_DOWN_LUA)
        self._factor = client.register_script(FACTOR_LUA)

    @classmethod
    def from_url(
        cls, url: str, limits: Mapping[str, PortalLimit], **options: Any
    ) -> RedisRateLimiter:
        client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        return cls(client, limits, **options)

    def acquire(self, portal: str) -> float:
        return self.reserve(portal).wait_s

    def reserve(self, portal: str) -> Slot:
        limit = limit_of(self._limits, portal)
        keys = [self._key(portal, "tat"), self._key(portal, "slow")]
        wait, send_at, factor, now = self._run(
            portal, lambda: self._acquire(keys=keys, args=[repr(limit.rate), limit.burst])
        )
        self._watch.observe(portal, limit.rate, float(factor), int(now) / US)
        return Slot(int(wait) / US, int(send_at) / US, float(factor))

    def slow_down(self, portal: str, factor: float, duration_s: float, reason: str) -> SlowDown:
        check_slow_down_args(factor, duration_s)
        limit = limit_of(self._limits, portal)
        args = [repr(factor), round(duration_s * US), self._compound_after_us, self._min_factor]
        keys = [self._key(portal, "slow")]
        new, remaining, compounded, now = self._run(
            portal, lambda: self._slow_down(keys=keys, args=args)
        )
        self._watch.observe(portal, limit.rate, float(new), int(now) / US)
        return SlowDown(
            portal=portal,
            reason=reason,
            factor=float(new),
            rate=limit.rate,
            effective_rate=limit.rate * float(new),
            remaining_s=int(remaining) / US,
            compounded=bool(int(compounded)),
        )

    def effective_rate(self, portal: str) -> float:
        limit = limit_of(self._limits, portal)
        keys = [self._key(portal, "slow")]
        factor, now = self._run(portal, lambda: self._factor(keys=keys))
        self._watch.observe(portal, limit.rate, float(factor), int(now) / US)
        return limit.rate * float(factor)

    def server_time(self) -> float:
        """Redis server time in seconds (the clock ``Slot.send_at_s`` is on)."""
        seconds, micros = self._redis.time()
        return float(seconds) + float(micros) / US

    def _key(self, portal: str, kind: str) -> str:
        return f"{self._prefix}:{{{portal}}}:{kind}"

    def _run(self, portal: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except redis.RedisError as exc:
            raise RateLimiterUnavailable(portal, type(exc).__name__) from exc
