"""Failed-login counting and account lockout, per (portal, user id).

After ``max_failures`` rejected logins the account is locked for ``lock_seconds`` of the
simulated clock; while locked even the right password is refused. A success clears the
count. Decisions are atomic so concurrent logins cannot slip past the limit.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from enum import StrEnum

from syncbucket.domain.identifiers import TAN_RE
from syncbucket.portalsim.accounts import demo_password
from syncbucket.portalsim.clock import SimClock

MAX_FAILURES = 5
LOCK_SECONDS = 3600.0


class Verdict(StrEnum):
    OK = "ok"
    REJECTED = "rejected"  # wrong password or no such account
    LOCKED = "locked"  # already locked: refused whatever the password
    LOCKED_NOW = "locked_now"  # this rejection locked the account


@dataclass(frozen=True)
class LoginDecision:
    verdict: Verdict
    attempts_left: int


def password_matches(portal: str, user_id: str, password: str) -> bool:
    """Any well-formed TAN has an account whose password is ``demo_password``."""
    if not TAN_RE.match(user_id):
        return False
    return hmac.compare_digest(password.encode(), demo_password(portal, user_id).encode())


class Lockouts:
    def __init__(
        self,
        clock: SimClock,
        max_failures: int = MAX_FAILURES,
        lock_seconds: float = LOCK_SECONDS,
    ) -> None:
        self._clock = clock
        self._max = max_failures
        self._lock_seconds = lock_seconds
        self._mutex = threading.Lock()
        self._failures: dict[tuple[str, str], int] = {}
        self._locked_until: dict[tuple[str, str], float] = {}

    def decide(self, portal: str, user_id: str, password: str) -> LoginDecision:
        key = (portal, user_id)
        ok = password_matches(portal, user_id, password)
        with self._mutex:
            now = self._clock.now()
            until = self._locked_until.get(key)
            if until is not None and now < until:
                return LoginDecision(Verdict.LOCKED, 0)
            self._locked_until.pop(key, None)
            if ok:
                self._failures.pop(key, None)
                return LoginDecision(Verdict.OK, self._max)
            failures = self._failures.get(key, 0) + 1
            if failures >= self._max:
                self._failures.pop(key, None)
                self._locked_until[key] = now + self._lock_seconds
                return LoginDecision(Verdict.LOCKED_NOW, 0)
            self._failures[key] = failures
            return LoginDecision(Verdict.REJECTED, self._max - failures)

    def is_locked(self, portal: str, user_id: str) -> bool:
        with self._mutex:
            until = self._locked_until.get((portal, user_id))
            return until is not None and self._clock.now() < until

    def reset(self) -> None:
        with self._mutex:
            self._failures.clear()
            self._locked_until.clear()
