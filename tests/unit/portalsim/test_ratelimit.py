"""The token bucket's arithmetic, on a fake clock."""

from __future__ import annotations

from syncbucket.portalsim.ratelimit import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = FakeTime()
    bucket = TokenBucket(clock)
    assert [bucket.take(2.0, 3) for _ in range(4)] == [0, 0, 0, 1]
    clock.now += 0.5  # one token back at 2/s
    assert bucket.take(2.0, 3) == 0
    assert bucket.take(2.0, 3) == 1


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    clock = FakeTime()
    bucket = TokenBucket(clock)
    assert bucket.take(0.25, 1) == 0
    assert bucket.take(0.25, 1) == 4  # one token takes 4 s at 0.25/s
    clock.now += 1
    assert bucket.take(0.25, 1) == 3


def test_zero_rate_means_unlimited_and_tokens_cap_at_burst() -> None:
    clock = FakeTime()
    bucket = TokenBucket(clock)
    assert all(bucket.take(0, 1) == 0 for _ in range(100))
    clock.now += 1000
    assert [bucket.take(1.0, 2) for _ in range(3)] == [0, 0, 1]
