"""Plain, thread-safe counters behind ``/admin/stats`` and the ``syncbucket_sim_*`` metrics.

Kept as dictionaries (not Prometheus objects) so that ``POST /admin/reset`` can zero them;
``metrics.py`` exposes them through a custom collector at scrape time.
"""

from __future__ import annotations

import threading
from collections import Counter
from enum import StrEnum
from typing import Any


class LoginResult(StrEnum):
    """How a login attempt ended (the ``result`` label of ``syncbucket_sim_logins_total``)."""

    SUCCEEDED = "succeeded"
    REJECTED = "rejected"
    LOCKED = "locked"
    SESSION_LIMIT = "session_limit"


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.responses: Counter[tuple[str, str]] = Counter()
        self.rate_limited: Counter[str] = Counter()
        self.logins: Counter[tuple[str, str]] = Counter()
        self.lockouts: Counter[str] = Counter()
        # Password checks per (portal, user id): "at most one login per client" is testable.
        self.user_logins: Counter[tuple[str, str]] = Counter()

    def request(self, portal: str, endpoint: str) -> None:
        with self._lock:
            self.requests[(portal, endpoint)] += 1

    def response(self, portal: str, status: int) -> None:
        with self._lock:
            self.responses[(portal, str(status))] += 1

    def limited(self, portal: str) -> None:
        with self._lock:
            self.rate_limited[portal] += 1

    def login(self, portal: str, result: str) -> None:
        with self._lock:
            self.logins[(portal, result)] += 1

    def login_attempt(self, portal: str, user_id: str) -> None:
        with self._lock:
            self.user_logins[(portal, user_id)] += 1

    def lockout(self, portal: str) -> None:
        with self._lock:
            self.lockouts[portal] += 1

    def reset(self) -> None:
        with self._lock:
            for counter in (
                self.requests,
                self.responses,
                self.rate_limited,
                self.logins,
                self.lockouts,
                self.user_logins,
            ):
                counter.clear()

    def copy(self) -> Counters:
        """A consistent snapshot, safe to read without the lock."""
        snap = Counters()
        with self._lock:
            snap.requests.update(self.requests)
            snap.responses.update(self.responses)
            snap.rate_limited.update(self.rate_limited)
            snap.logins.update(self.logins)
            snap.lockouts.update(self.lockouts)
            snap.user_logins.update(self.user_logins)
        return snap

    def portal_summary(self, portal: str) -> dict[str, Any]:
        snap = self.copy()
        by_endpoint = {e: n for (p, e), n in sorted(snap.requests.items()) if p == portal}
        logins = {result.value: snap.logins[(portal, result.value)] for result in LoginResult}
        return {
            "requests": {"total": sum(by_endpoint.values()), "by_endpoint": by_endpoint},
            "responses": {s: n for (p, s), n in sorted(snap.responses.items()) if p == portal},
            "rate_limited": snap.rate_limited[portal],
            "logins": {"attempted": sum(logins.values()), **logins},
            "lockouts": snap.lockouts[portal],
            "logins_by_user": {
                u: n for (p, u), n in sorted(snap.user_logins.items()) if p == portal
            },
        }
