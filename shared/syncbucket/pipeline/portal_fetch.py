"""Fetch one module part for one client, reusing the client's portal session.

Sessions live in a :class:`syncbucket.sessions.cache.SessionCache` (in-process or Redis)
as the flat state of ``SerialisableSession.to_dict()`` (DESIGN §3.8):

- a cached state is attached to a fresh portal client, so all modules share one login;
- without one, the login is single-flight per (client, portal) through ``login_lock``:
  under the lock the cache is read again, and only the first caller logs in;
- a session renewed during the fetch (the client re-logs in once on expiry) replaces the
  cached one; a session lost during the fetch is invalidated only while the cache still
  holds the one this fetch started with (``only_if`` its fingerprint).

A rejected login is remembered by the :class:`LoginGuard` *inside* the lock (DESIGN §3.9),
so the callers waiting on it fail fast instead of trying the password again.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

import httpx

from syncbucket.config import Settings
from syncbucket.contracts.messages import WorkMessage
from syncbucket.domain import records as r
from syncbucket.pipeline.login_guard import LoginGuard
from syncbucket.pipeline.retry_policy import Failure
from syncbucket.pipeline.work_items import Target
from syncbucket.portals.base import AnyPortalClient, PortalClient, SerialisableSession
from syncbucket.portals.errors import InvalidCredentials
from syncbucket.portals.registry import build_client, fetch_part
from syncbucket.sessions.cache import SessionCache, SessionState, state_fingerprint

# The simulator keeps sessions 30 minutes; stay well inside that. A session the portal
# drops earlier costs one re-login, which the portal client does by itself.
SESSION_TTL_SECONDS = 15 * 60.0


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
) -> Sequence[r.Record]:
    """The records of ``message.module`` on ``message.portal`` (raises ``PortalError``)."""
    client = build_client(
        message.portal,
        settings=settings,
        credentials=target.credentials,
        tan=target.tan,
        transport=transport,
    )
    with client:
        attached = _attach_session(client, message, cache, guard)
        try:
            return fetch_part(message.module, client)
        finally:
            _keep_session(client, message, cache, attached)


def refusal_of(error: InvalidCredentials) -> Failure:
    return Failure(str(error.code), error.message)


def session_type(client: AnyPortalClient) -> type[SerialisableSession]:
    """The session class of a portal client, from its ``PortalClient[...]`` base."""
    for klass in type(client).__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if typing.get_origin(base) is PortalClient:
                found: type[SerialisableSession] = typing.get_args(base)[0]
                return found
    raise TypeError(f"{type(client).__name__} does not declare its session type")


def _attach_session(
    client: AnyPortalClient, message: WorkMessage, cache: SessionCache, guard: LoginGuard
) -> SessionState | None:
    state = cache.get(message.client_id, message.portal)
    if state is not None and _attach(client, state):
        return state
    with cache.login_lock(message.client_id, message.portal):
        refused = guard.refusal(message.run_id, message.client_id, message.portal)
        if refused is not None:
            raise LoginRefusedEarlier(refused)
        state = cache.get(message.client_id, message.portal)
        if state is not None and _attach(client, state):
            return state
        try:
            session: SerialisableSession = client.login()
        except InvalidCredentials as exc:
            guard.remember(message.run_id, message.client_id, message.portal, refusal_of(exc))
            raise
        state = session.to_dict()
        cache.put(message.client_id, message.portal, state, SESSION_TTL_SECONDS)
        return state


def _attach(client: AnyPortalClient, state: Mapping[str, str]) -> bool:
    try:
        client.session = session_type(client).from_dict(state)
    except (KeyError, ValueError, TypeError):
        return False  # a state of an older shape: log in afresh
    return True


def _keep_session(
    client: AnyPortalClient,
    message: WorkMessage,
    cache: SessionCache,
    attached: SessionState | None,
) -> None:
    current: SerialisableSession | None = client.session
    state = current.to_dict() if current is not None else None
    if state == attached:
        return
    if state is None:
        if attached is not None:
            fingerprint = state_fingerprint(attached)
            cache.invalidate(message.client_id, message.portal, only_if=fingerprint)
        return
    cache.put(message.client_id, message.portal, state, SESSION_TTL_SECONDS)
