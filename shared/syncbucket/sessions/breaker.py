"""The lockout breaker (docs/architecture.md §9): after one rejected login for a (client, portal)
in a
run, no further login is tried for it in that run.

TRACES locks an account after 5 failed logins; a run with many items per client would get
there on its own if every item tried. ``trip`` records the rejection (``invalid_credentials``
or ``locked``); ``tripped`` answers it for every later item, on any process, so those items
fail at once with the same code. ``guarded_login`` wraps a login callable with both.

Results for ``syncbucket_logins_total{result}`` are reported through ``on_login``:
``success``, ``rejected``, ``locked``, ``error`` (any other failure) and ``skipped_breaker``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import redis

from syncbucket.portals.boundary import portal_name
from syncbucket.portals.errors import AccountLocked, ErrorCode, InvalidCredentials, PortalError
from syncbucket.sessions.cache import ClientId, SessionCacheUnavailable

T = TypeVar("T")
RunId = int | str
LoginHook = Callable[[str, str], None]  # (portal, result)
DEFAULT_TTL_S = 24 * 3600.0
_TITLES = {"traces": "TRACES", "itportal": "IT portal"}


class LoginBreaker(Protocol):
    def tripped(self, run_id: RunId, client_id: ClientId, portal: str) -> str | None:
        """The error code that tripped the breaker in this run, or None."""
        ...

    def trip(self, run_id: RunId, client_id: ClientId, portal: str, code: str) -> None:
        """Record a rejected login (``invalid_credentials`` or ``locked``)."""
        ...


class InMemoryLoginBreaker:
    def __init__(
        self, *, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._codes: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def tripped(self, run_id: RunId, client_id: ClientId, portal: str) -> str | None:
        key = (str(run_id), str(client_id), portal)
        with self._lock:
            found = self._codes.get(key)
            if found is not None and found[1] <= self._clock():
                del self._codes[key]
                found = None
        return None if found is None else found[0]

    def trip(self, run_id: RunId, client_id: ClientId, portal: str, code: str) -> None:
        now = self._clock()
        with self._lock:  # expired trips are dropped here, so memory stays bounded
            for key in [k for k, (_, until) in self._codes.items() if until <= now]:
                del self._codes[key]
            self._codes[(str(run_id), str(client_id), portal)] = (code, now + self._ttl_s)

    @property
    def size(self) -> int:
        """How many trips are held (expired ones included until pruned)."""
        with self._lock:
            return len(self._codes)


class RedisLoginBreaker:
    """Key ``<prefix>:<run>:<portal>:<client>`` = code, expiring after ``ttl_s``."""

    def __init__(
        self,
        client: redis.Redis[bytes],
        *,
        prefix: str = "syncbucket:login-breaker",
        ttl_s: float = DEFAULT_TTL_S,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._ttl_ms = max(1, round(ttl_s * 1000))

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisLoginBreaker:
        client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
        return cls(client, **options)

    def tripped(self, run_id: RunId, client_id: ClientId, portal: str) -> str | None:
        key = self._key(run_id, client_id, portal)
        raw = _guarded(portal, lambda: self._redis.get(key))
        return None if raw is None else raw.decode("utf-8")

    def trip(self, run_id: RunId, client_id: ClientId, portal: str, code: str) -> None:
        key = self._key(run_id, client_id, portal)
        _guarded(portal, lambda: self._redis.set(key, code.encode("utf-8"), px=self._ttl_ms))

    def _key(self, run_id: RunId, client_id: ClientId, portal: str) -> str:
        return f"{self._prefix}:{run_id}:{portal}:{client_id}"


def breaker_error(code: str, portal: str) -> InvalidCredentials:
    """The error a skipped login raises: same class and code as the rejection it repeats.

    The message tells the person what to do: the credentials are fixed in the client
    master (``syncbucket clients import``), then the failed items are re-synced.
    """
    name, title = portal_name(portal, capital=True), _TITLES.get(portal, portal)
    if code == ErrorCode.LOCKED:
        return AccountLocked(
            f"{name} reported this account as locked earlier in this run; no further login "
            f"was tried. Unlock the account on {portal_name(portal)} (or wait for the lock to "
            f"expire), check the {title} user id and password in the client master, then "
            "re-sync the failed items",
            portal=portal,
        )
    return InvalidCredentials(
        f"{name} rejected this client's user id or password earlier in this run; no further "
        "login was tried so the account does not get locked. Fix the credentials: correct "
        f"the {title} user id and password in the client master (`syncbucket clients "
        "import`), then re-sync the failed items",
        portal=portal,
    )


def guarded_login(
    breaker: LoginBreaker,
    run_id: RunId,
    client_id: ClientId,
    portal: str,
    login: Callable[[], T],
    on_login: LoginHook | None = None,
) -> Callable[[], T]:
    """``login`` that is skipped once the breaker tripped, and trips it when rejected."""

    def report(result: str) -> None:
        if on_login is not None:
            on_login(portal, result)

    def attempt() -> T:
        code = breaker.tripped(run_id, client_id, portal)
        if code is not None:
            report("skipped_breaker")
            raise breaker_error(code, portal)
        try:
            result = login()
        except InvalidCredentials as exc:
            breaker.trip(run_id, client_id, portal, str(exc.code))
            report("locked" if isinstance(exc, AccountLocked) else "rejected")
            raise
        except PortalError:
            report("error")
            raise
        report("success")
        return result

    return attempt


def _guarded(portal: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except redis.RedisError as exc:
        raise SessionCacheUnavailable(portal, type(exc).__name__) from exc
