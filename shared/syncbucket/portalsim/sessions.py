"""Session stores of both portals: TRACES captchas, access tokens and JSESSIONIDs; IT-portal
login request ids and auth tokens (a few per user, oldest evicted on force-login).

Lifetimes are checked against the *current* ``session_ttl_seconds`` on the simulated clock,
so lowering the knob or advancing the clock expires live sessions at once.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from syncbucket.portalsim.clock import SimClock

CAPTCHA_SECONDS = 600.0
REQ_ID_SECONDS = 300.0
CAPTCHA_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_PENDING = 50_000  # bound for captchas / request ids nobody ever used


@dataclass(frozen=True)
class Grant:
    user: str
    created: float


def _new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


def _prune(store: dict[str, Grant], now: float, lifetime: float) -> None:
    expired = [key for key, grant in store.items() if now - grant.created >= lifetime]
    for key in expired:
        del store[key]
    while len(store) > MAX_PENDING:
        del store[next(iter(store))]


class _SessionBook:
    """What both portals' stores share: live sessions keyed by an opaque id."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Grant] = {}

    def session_user(self, session_id: str, ttl: float) -> str | None:
        with self._lock:
            grant = self._sessions.get(session_id)
            if grant is None or self._clock.now() - grant.created >= ttl:
                return None
            return grant.user

    def live(self, ttl: float) -> int:
        with self._lock:
            now = self._clock.now()
            return sum(1 for g in self._sessions.values() if now - g.created < ttl)


class TracesSessions(_SessionBook):
    """captcha -> login (access token) -> preAuth (JSESSIONID)."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)  # sessions: JSESSIONID -> tan
        self._captchas: dict[str, Grant] = {}  # id -> (answer, created)
        self._tokens: dict[str, Grant] = {}  # access token -> tan

    def new_captcha(self) -> tuple[str, str]:
        captcha_id = secrets.token_hex(16)
        answer = "".join(secrets.choice(CAPTCHA_ALPHABET) for _ in range(6))
        with self._lock:
            _prune(self._captchas, self._clock.now(), CAPTCHA_SECONDS)
            self._captchas[captcha_id] = Grant(answer, self._clock.now())
        return captcha_id, answer

    def use_captcha(self, captcha_id: str, answer: str) -> bool:
        """Single use: the captcha is spent by the attempt, right or wrong."""
        with self._lock:
            grant = self._captchas.pop(captcha_id, None)
        if grant is None or self._clock.now() - grant.created >= CAPTCHA_SECONDS:
            return False
        return secrets.compare_digest(grant.user, answer)

    def issue_token(self, tan: str, ttl: float) -> str:
        token = _new_token()
        with self._lock:
            _prune(self._tokens, self._clock.now(), ttl)
            self._tokens[token] = Grant(tan, self._clock.now())
        return token

    def open_session(self, access_token: str, ttl: float) -> str | None:
        with self._lock:
            grant = self._tokens.get(access_token)
            now = self._clock.now()
            if grant is None or now - grant.created >= ttl:
                return None
            _prune(self._sessions, now, ttl)
            session_id = secrets.token_hex(16).upper()
            self._sessions[session_id] = Grant(grant.user, now)
            return session_id

    def reset(self) -> None:
        with self._lock:
            self._captchas.clear()
            self._tokens.clear()
            self._sessions.clear()


class ItPortalSessions(_SessionBook):
    """Step 1 hands out a ``reqId``; step 2 turns it into an auth token."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock)  # sessions: auth token -> user; insertion = age order
        self._req_ids: dict[str, Grant] = {}

    def new_req_id(self, entity: str) -> str:
        req_id = secrets.token_hex(12)
        with self._lock:
            _prune(self._req_ids, self._clock.now(), REQ_ID_SECONDS)
            self._req_ids[req_id] = Grant(entity, self._clock.now())
        return req_id

    def req_id_valid(self, req_id: str, entity: str) -> bool:
        with self._lock:
            grant = self._req_ids.get(req_id)
        return (
            grant is not None
            and grant.user == entity
            and self._clock.now() - grant.created < REQ_ID_SECONDS
        )

    def open_session(
        self, user: str, req_id: str, ttl: float, limit: int, force: bool
    ) -> str | None:
        """A new auth token, or None when ``limit`` live sessions exist and not ``force``."""
        with self._lock:
            now = self._clock.now()
            _prune(self._sessions, now, ttl)
            mine = [token for token, grant in self._sessions.items() if grant.user == user]
            if len(mine) >= limit and not force:
                return None
            for token in mine[: max(0, len(mine) - limit + 1)]:
                del self._sessions[token]  # force-login evicts the oldest
            self._req_ids.pop(req_id, None)
            token = _new_token(32)
            self._sessions[token] = Grant(user, now)
            return token

    def reset(self) -> None:
        with self._lock:
            self._req_ids.clear()
            self._sessions.clear()
