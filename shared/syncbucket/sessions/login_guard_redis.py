"""Adapts a :class:`LoginBreaker` to the pipeline's ``LoginGuard`` protocol, so the workers
share rejected logins through Redis without changing their code (docs/architecture.md §9).

The breaker stores only the error code; the message a person reads is rebuilt from it.
"""

from __future__ import annotations

from syncbucket.pipeline.retry_policy import Failure
from syncbucket.sessions.breaker import LoginBreaker, breaker_error


class BreakerLoginGuard:
    """``refusal``/``remember`` of ``syncbucket.pipeline.login_guard.LoginGuard``."""

    def __init__(self, breaker: LoginBreaker) -> None:
        self._breaker = breaker

    def refusal(self, run_id: int, client_id: int, portal: str) -> Failure | None:
        code = self._breaker.tripped(run_id, client_id, portal)
        if code is None:
            return None
        return Failure(code, breaker_error(code, portal).message)

    def remember(self, run_id: int, client_id: int, portal: str, failure: Failure) -> None:
        self._breaker.trip(run_id, client_id, portal, failure.code)
