"""Fetch one module part for one client, on the client's one shared portal session.

Sessions live in a :class:`syncbucket.sessions.cache.SessionCache` (in-process or Redis,
encrypted) as the flat state of ``SerialisableSession.to_dict()`` (docs/architecture.md §8), for
``settings.session_cache_ttl_seconds``; the cache + lock steps are
:class:`syncbucket.sessions.shared.SharedSession`:

- a cached state is attached to a fresh portal client, so all modules share one login;
- without one, the login is single-flight per (client, portal) through ``login_lock``:
  under the lock the cache is read again, and only the first caller logs in;
- when the portal says the session expired mid-fetch, the client's ``relogin`` hook renews
  it through the same lock: the expired state is dropped only while the cache still holds
  it (``only_if`` its fingerprint), then whoever takes the lock first logs in and every
  other process - waiting on the lock or arriving later - reuses that renewed session;
- a session the client replaced or lost by itself is written back or dropped.

A rejected login is remembered by the :class:`LoginGuard` *inside* the lock
(docs/architecture.md §9),
and the guard is asked before every login, so the callers waiting on it fail fast instead
of trying the password again. A rejection always wins: remembering it or dropping the
cached session is best effort (a Redis blip is logged, see :func:`remember_refusal`), and
a cache error after a rejected login in this fetch re-raises the rejection, so the item
fails for good instead of being retried into an account lockout.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable, Mapping, Sequence

import httpx

from syncbucket.config import Settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.domain import records as r
from syncbucket.pipeline.login_guard import LoginGuard
from syncbucket.pipeline.retry_policy import Failure
from syncbucket.pipeline.work_items import Target
from syncbucket.portals.base import AnyPortalClient, PortalClient, SerialisableSession
from syncbucket.portals.errors import AccountLocked, InvalidCredentials, PortalError
from syncbucket.portals.registry import build_client, fetch_part
from syncbucket.sessions.breaker import LoginHook
from syncbucket.sessions.cache import SessionCache, SessionState
from syncbucket.sessions.shared import SharedSession

log = logging.getLogger(__name__)


class LoginRefusedEarlier(Exception):
    """An earlier login of this client on this portal in this run was rejected."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def fetch_records(
    message: WorkMessage,
    target: Target,
    *,
    settings: Settings,
    cache: SessionCache,
    guard: LoginGuard,
    transport: httpx.BaseTransport | None = None,
    on_login: LoginHook | None = None,
) -> Sequence[r.Record]:
    """The records of ``message.module`` on ``message.portal`` (raises ``PortalError``).

    ``on_login(portal, result)`` is told of every login this fetch tried or skipped:
    ``success``, ``rejected``, ``locked``, ``error`` or ``skipped_breaker``.
    """
    client = build_client(
        message.portal,
        settings=settings,
        credentials=target.credentials,
        tan=target.tan,
        transport=transport,
    )
    rejected: list[InvalidCredentials] = []
    login = guarded_login(client, message, guard, on_login, rejected.append)
    shared = SharedSession(
        cache, message.client_id, message.portal, login, ttl_s=settings.session_cache_ttl_seconds
    )
    try:
        return _fetch_shared(client, shared, message.module)
    except InvalidCredentials:
        raise
    except Exception as exc:
        if rejected:  # e.g. the login lock's release failed after the rejection
            raise rejected[-1] from exc
        raise


def _fetch_shared(
    client: AnyPortalClient, shared: SharedSession, module: str
) -> Sequence[r.Record]:
    with client:
        binding = SessionBinding(client, shared)
        binding.attach()
        try:
            return fetch_part(module, client)
        finally:
            binding.write_back()


def refusal_of(error: InvalidCredentials) -> Failure:
    return Failure(str(error.code), error.message)


def remember_refusal(guard: LoginGuard, message: WorkMessage, error: InvalidCredentials) -> None:
    """``guard.remember`` the rejection; a failure (Redis blip) is logged, never raised.

    Raising would replace the rejection with a transient error, and the retry would try
    the password again (docs/architecture.md §9: TRACES locks the account after 5 failed logins).
    """
    try:
        guard.remember(message.run_id, message.client_id, message.portal, refusal_of(error))
    except Exception as exc:  # best effort: the rejection must win
        _best_effort_failed("remember the rejected login", message, exc)


def forget_session(cache: SessionCache, message: WorkMessage) -> None:
    """Drop the client's cached session; a failure is logged, never raised."""
    try:
        cache.invalidate(message.client_id, message.portal)
    except Exception as exc:  # best effort: the rejection must win
        _best_effort_failed("drop the cached session", message, exc)


def _best_effort_failed(what: str, message: WorkMessage, exc: Exception) -> None:
    # The exception's type only: its text might quote a connection URL.
    log.warning(
        "item %s: could not %s of client %s on %s (%s); the item still fails at once",
        message.item_id,
        what,
        message.client_id,
        message.portal,
        type(exc).__name__,
    )


def guarded_login(
    client: AnyPortalClient,
    message: WorkMessage,
    guard: LoginGuard,
    on_login: LoginHook | None = None,
    on_rejected: Callable[[InvalidCredentials], None] | None = None,
) -> Callable[[], SessionState]:
    """The client's login, refused at once after a rejection in this run, else remembered.

    ``on_rejected`` is told of a rejection before it propagates.
    """
    portal = message.portal

    def report(result: str) -> None:
        if on_login is not None:
            on_login(portal, result)

    def login() -> SessionState:
        refused = guard.refusal(message.run_id, message.client_id, portal)
        if refused is not None:
            report("skipped_breaker")
            raise LoginRefusedEarlier(refused)
        try:
            session: SerialisableSession = client.login()
        except InvalidCredentials as exc:
            if on_rejected is not None:
                on_rejected(exc)
            remember_refusal(guard, message, exc)
            report("locked" if isinstance(exc, AccountLocked) else "rejected")
            raise
        except PortalError:
            report("error")
            raise
        report("success")
        return session.to_dict()

    return login


class SessionBinding:
    """Binds one portal client to the shared session of its (client, portal)."""

    def __init__(self, client: AnyPortalClient, shared: SharedSession) -> None:
        self._client = client
        self._shared = shared
        self._state: SessionState | None = None

    def attach(self) -> None:
        """Install the shared session (logging in once if none) and the re-login hook."""
        state = self._shared.obtain()
        if not self._install(state):
            state = self._shared.renew(state)  # a state of an older shape: log in afresh
            self._install(state)
        self._client.relogin = self.relogin

    def relogin(self, expired: SerialisableSession) -> SerialisableSession:
        """The ``PortalClient.relogin`` hook: one renewal for every process."""
        state = self._shared.renew(expired.to_dict())
        session = session_type(self._client).from_dict(state)
        self._state = state
        return session

    def write_back(self) -> None:
        """Publish a session the client replaced by itself; drop one it lost."""
        current: SerialisableSession | None = self._client.session
        state = current.to_dict() if current is not None else None
        if state == self._state:
            return
        if state is None:
            if self._state is not None:
                self._shared.drop(self._state)
            return
        self._shared.adopt(state)

    def _install(self, state: Mapping[str, str]) -> bool:
        try:
            self._client.session = session_type(self._client).from_dict(state)
        except (KeyError, ValueError, TypeError):
            return False
        self._state = dict(state)
        return True


def session_type(client: AnyPortalClient) -> type[SerialisableSession]:
    """The session class of a portal client, from its ``PortalClient[...]`` base."""
    for klass in type(client).__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if typing.get_origin(base) is PortalClient:
                found: type[SerialisableSession] = typing.get_args(base)[0]
                return found
    raise TypeError(f"{type(client).__name__} does not declare its session type")
