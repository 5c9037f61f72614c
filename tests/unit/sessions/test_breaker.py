"""The lockout breaker: one rejected login per (run, client, portal), then fail fast."""

from __future__ import annotations

import pytest

from syncbucket.pipeline.retry_policy import Failure
from syncbucket.portals.errors import (
    AccountLocked,
    ErrorCode,
    InvalidCredentials,
    PortalTransient,
)
from syncbucket.sessions.breaker import InMemoryLoginBreaker, breaker_error, guarded_login
from syncbucket.sessions.login_guard_redis import BreakerLoginGuard
from tests.unit.ratelimit.clock import FakeClock


def test_trip_is_scoped_to_run_client_and_portal_and_expires() -> None:
    clock = FakeClock()
    breaker = InMemoryLoginBreaker(ttl_s=100, clock=clock)
    breaker.trip(1, 42, "traces", "invalid_credentials")
    assert breaker.tripped(1, 42, "traces") == "invalid_credentials"
    assert breaker.tripped(2, 42, "traces") is None
    assert breaker.tripped(1, 43, "traces") is None
    assert breaker.tripped(1, 42, "itportal") is None
    clock.advance(101)
    assert breaker.tripped(1, 42, "traces") is None


def test_guarded_login_trips_on_rejection_and_then_never_calls_login() -> None:
    breaker = InMemoryLoginBreaker()
    calls: list[int] = []
    results: list[tuple[str, str]] = []

    def login() -> dict[str, str]:
        calls.append(1)
        raise AccountLocked("locked", portal="traces")

    guarded = guarded_login(breaker, 1, 42, "traces", login, lambda p, r: results.append((p, r)))
    with pytest.raises(AccountLocked):
        guarded()
    for _ in range(5):
        with pytest.raises(AccountLocked) as caught:
            guarded()
        assert "Unlock the account" in caught.value.message
    assert calls == [1]
    assert results == [("traces", "locked")] + [("traces", "skipped_breaker")] * 5
    assert breaker.tripped(1, 42, "traces") == ErrorCode.LOCKED


def test_guarded_login_reports_success_and_errors_without_tripping() -> None:
    breaker = InMemoryLoginBreaker()
    results: list[str] = []
    ok = guarded_login(breaker, 1, 1, "traces", lambda: {"t": "x"}, lambda p, r: results.append(r))
    assert ok() == {"t": "x"}

    def flaky() -> dict[str, str]:
        raise PortalTransient("down", portal="traces")

    failing = guarded_login(breaker, 1, 1, "traces", flaky, lambda p, r: results.append(r))
    with pytest.raises(PortalTransient):
        failing()
    assert results == ["success", "error"]
    assert breaker.tripped(1, 1, "traces") is None


def test_breaker_error_names_the_fix() -> None:
    error = breaker_error("invalid_credentials", "itportal")
    assert type(error) is InvalidCredentials
    assert error.code == ErrorCode.INVALID_CREDENTIALS
    assert "Fix the credentials" in error.message


def test_breaker_behind_the_pipeline_login_guard_protocol() -> None:
    guard = BreakerLoginGuard(InMemoryLoginBreaker())
    assert guard.refusal(1, 2, "traces") is None
    guard.remember(1, 2, "traces", Failure("locked", "the portal locked it"))
    refusal = guard.refusal(1, 2, "traces")
    assert refusal is not None and refusal.code == "locked"


def test_expired_trips_are_pruned_when_another_trips() -> None:
    clock = FakeClock()
    breaker = InMemoryLoginBreaker(ttl_s=100, clock=clock)
    for run_id in range(50):
        breaker.trip(run_id, 42, "traces", "invalid_credentials")
    assert breaker.size == 50
    clock.advance(60)
    breaker.trip(99, 42, "traces", "locked")  # the 50 older ones are still live
    assert breaker.size == 51
    clock.advance(50)
    breaker.trip(100, 42, "traces", "locked")  # 110 s on: the first 50 expired
    assert breaker.size == 2
    assert breaker.tripped(99, 42, "traces") == "locked"
    assert breaker.tripped(0, 42, "traces") is None
