"""The retry policy decides from the error class alone, for every class of the taxonomy."""

from __future__ import annotations

import random

import pytest

from syncbucket.config import load_settings
from syncbucket.pipeline.retry_policy import (
    MAX_SINGLE_DELAY_SECONDS,
    Failure,
    GiveUp,
    RetryDecision,
    RetryPolicy,
    exhausted,
)
from syncbucket.portals.errors import (
    AccountLocked,
    ErrorCode,
    InvalidCredentials,
    PortalError,
    PortalMaintenance,
    PortalPermanent,
    PortalRateLimited,
    PortalTransient,
    SessionExpired,
)

POLICY = RetryPolicy(max_attempts=4, min_backoff=2.0, max_backoff=120.0, maintenance_max_defer=3600)


def decide(error: PortalError, attempt: int = 1, deferred: float = 0.0) -> object:
    return POLICY.decide(error, attempt=attempt, deferred_seconds=deferred, rng=random.Random(3))


def test_transient_is_retried_with_backoff_and_counts_as_attempt() -> None:
    error = PortalTransient("TRACES answered HTTP 502; the item will be retried", portal="traces")
    decision = decide(error, attempt=1)
    assert isinstance(decision, RetryDecision)
    assert decision.counts_as_attempt
    assert 2.0 <= decision.delay_seconds <= 4.0
    assert decision.error == Failure("portal_server_error", error.message)


def test_transient_on_the_last_attempt_is_final_with_code_and_count() -> None:
    error = PortalTransient(
        "TRACES answered HTTP 502 for the page; the item will be retried", portal="traces"
    )
    decision = decide(error, attempt=4)
    assert isinstance(decision, GiveUp)
    assert decision.attempts == 4
    assert decision.error.code == "portal_server_error"
    assert "will be retried" not in decision.error.message
    assert decision.error.message.endswith("gave up after 4 attempts")


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 9])
def test_backoff_is_full_jitter_between_min_and_the_capped_exponential(attempt: int) -> None:
    rng = random.Random(attempt)
    ceiling = min(120.0, 2.0 * 2**attempt)
    delays = [POLICY.backoff(attempt, rng) for _ in range(200)]
    assert all(2.0 <= delay <= ceiling for delay in delays)
    assert max(delays) - min(delays) > (ceiling - 2.0) / 2  # spread, not a fixed value


def test_rate_limited_waits_at_least_retry_after() -> None:
    error = PortalRateLimited("slow down", portal="itportal", retry_after=30.0)
    decision = decide(error, attempt=1)
    assert isinstance(decision, RetryDecision)
    assert decision.delay_seconds >= 30.0
    assert decision.error.code == "portal_rate_limited"


def test_session_expired_is_transient() -> None:
    decision = decide(SessionExpired("expired", portal="traces"))
    assert isinstance(decision, RetryDecision) and decision.counts_as_attempt


def test_maintenance_defers_by_retry_after_without_counting_an_attempt() -> None:
    error = PortalMaintenance("down for maintenance", portal="traces", retry_after=600.0)
    decision = decide(error, attempt=4, deferred=100.0)  # even on the "last" attempt
    assert decision == RetryDecision(
        600.0, counts_as_attempt=False, error=Failure("portal_maintenance", error.message)
    )


def test_maintenance_without_retry_after_uses_the_default_delay() -> None:
    decision = decide(PortalMaintenance("down", portal="traces", retry_after=None))
    assert isinstance(decision, RetryDecision)
    assert decision.delay_seconds == POLICY.maintenance_default_delay


def test_maintenance_delay_never_runs_past_the_defer_limit() -> None:
    error = PortalMaintenance("down", portal="traces", retry_after=600.0)
    decision = decide(error, deferred=3500.0)
    assert isinstance(decision, RetryDecision)
    assert decision.delay_seconds == pytest.approx(100.0)


def test_maintenance_past_the_defer_limit_is_final() -> None:
    error = PortalMaintenance(
        "TRACES is down for maintenance; the item will be retried after 60 s",
        portal="traces",
        retry_after=60.0,
    )
    decision = decide(error, attempt=2, deferred=3600.0)
    assert isinstance(decision, GiveUp)
    assert decision.attempts == 2
    assert decision.error.code == "portal_maintenance"
    assert "will be retried" not in decision.error.message
    assert "3600" in decision.error.message


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            PortalPermanent("no such page", portal="traces", code=ErrorCode.NOT_FOUND),
            "portal_not_found",
        ),
        (InvalidCredentials("wrong password", portal="traces"), "invalid_credentials"),
        (AccountLocked("locked for an hour", portal="traces"), "locked"),
        (PortalError("something odd", portal="itportal"), "portal_unexpected_response"),
    ],
)
def test_permanent_and_credential_errors_are_final_at_once(error: PortalError, code: str) -> None:
    decision = decide(error, attempt=1)
    assert decision == GiveUp(Failure(code, error.message), attempts=1)


def test_unexpected_errors_are_retried_like_transient_then_final() -> None:
    failure = Failure("internal_error", "boom")
    retry = POLICY.transient(failure, attempt=1, rng=random.Random(1))
    assert isinstance(retry, RetryDecision) and retry.counts_as_attempt
    final = POLICY.transient(failure, attempt=4, rng=random.Random(1))
    assert final == GiveUp(exhausted(failure, 4), attempts=4)


def test_policy_from_settings() -> None:
    settings = load_settings(
        max_attempts=7,
        retry_min_backoff_seconds=1.5,
        retry_max_backoff_seconds=9.0,
        maintenance_max_defer_seconds=99.0,
    )
    policy = RetryPolicy.from_settings(settings)
    assert (policy.max_attempts, policy.min_backoff, policy.max_backoff) == (7, 1.5, 9.0)
    assert policy.maintenance_max_defer == 99.0


@pytest.mark.parametrize("retry_after", [1800.0, 3600.0, None])
def test_no_single_delay_outlasts_rabbitmqs_consumer_timeout(retry_after: float | None) -> None:
    policy = RetryPolicy(maintenance_max_defer=7200, maintenance_default_delay=3000)
    error = PortalMaintenance("down", portal="traces", retry_after=retry_after)
    decision = policy.decide(error, attempt=1, deferred_seconds=0.0, rng=random.Random(1))
    assert isinstance(decision, RetryDecision) and not decision.counts_as_attempt
    assert decision.delay_seconds == MAX_SINGLE_DELAY_SECONDS == 1200.0
    # The chain goes on: a later attempt still in maintenance defers again, capped again.
    again = policy.decide(error, attempt=1, deferred_seconds=5000.0, rng=random.Random(1))
    assert isinstance(again, RetryDecision) and again.delay_seconds == MAX_SINGLE_DELAY_SECONDS
    last = policy.decide(error, attempt=1, deferred_seconds=6500.0, rng=random.Random(1))
    assert isinstance(last, RetryDecision) and last.delay_seconds == pytest.approx(700.0)


def test_transient_backoff_is_capped_too() -> None:
    policy = RetryPolicy(min_backoff=3000.0, max_backoff=5000.0)
    limited = PortalRateLimited("slow down", portal="itportal", retry_after=4000.0)
    for error in (PortalTransient("502", portal="traces"), limited):
        decision = policy.decide(error, attempt=1, deferred_seconds=0.0, rng=random.Random(2))
        assert isinstance(decision, RetryDecision) and decision.counts_as_attempt
        assert decision.delay_seconds == MAX_SINGLE_DELAY_SECONDS
