"""RateLimitedTransport: paces every request, adapts to 429 and to bursts of 5xx."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
import pytest

from syncbucket.ratelimit.bursts import ErrorBurstDetector
from syncbucket.ratelimit.limiter import PortalLimit, RateLimiterUnavailable, SlowDown
from syncbucket.ratelimit.memory import InMemoryRateLimiter
from syncbucket.ratelimit.transport import AdaptivePolicy, RateLimitedTransport, status_class
from tests.unit.ratelimit.clock import FakeClock

P = "traces"


@dataclass
class ScriptedLimiter:
    waits: list[float]
    acquired: int = 0
    slowdowns: list[tuple[float, float, str]] = field(default_factory=list)
    fail_slow_down: bool = False

    def acquire(self, portal: str) -> float:
        self.acquired += 1
        return self.waits.pop(0) if self.waits else 0.0

    def slow_down(self, portal: str, factor: float, duration_s: float, reason: str) -> SlowDown:
        if self.fail_slow_down:
            raise RateLimiterUnavailable(portal, "ConnectionError")
        self.slowdowns.append((factor, duration_s, reason))
        return SlowDown(portal, reason, factor, 10, 10 * factor, duration_s, False)

    def effective_rate(self, portal: str) -> float:
        return 10.0


def answering(*statuses: int, headers: dict[str, str] | None = None) -> httpx.MockTransport:
    replies = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(replies.pop(0) if replies else 200, headers=headers, json={})

    return httpx.MockTransport(handle)


def client(transport: httpx.BaseTransport) -> httpx.Client:
    return httpx.Client(transport=transport, base_url="https://portal.test")


def test_sleeps_the_answered_wait_before_every_request_including_the_first() -> None:
    seen: list[str] = []
    slept: list[float] = []
    waits: list[tuple[str, float]] = []
    limiter = ScriptedLimiter([0.0, 0.25, 1.5])

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={})

    transport = RateLimitedTransport(
        httpx.MockTransport(handle),
        limiter,
        P,
        sleep=slept.append,
        on_wait=lambda portal, wait: waits.append((portal, wait)),
    )
    with client(transport) as http:
        for path in ("/captcha", "/login", "/data"):
            http.get(path)
    assert seen == ["/captcha", "/login", "/data"]
    assert limiter.acquired == 3
    assert slept == [0.25, 1.5]
    assert waits == [(P, 0.0), (P, 0.25), (P, 1.5)]


def test_a_wait_over_the_bound_is_still_slept_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    slept: list[float] = []
    policy = AdaptivePolicy(max_wait_s=5)
    transport = RateLimitedTransport(
        answering(200), ScriptedLimiter([7.0]), P, policy=policy, sleep=slept.append
    )
    with caplog.at_level(logging.WARNING, "syncbucket.ratelimit"), client(transport) as http:
        assert http.get("/x").status_code == 200
    assert slept == [7.0]
    assert "over the 5 s bound" in caplog.text


def test_429_slows_the_portal_down_for_max_of_retry_after_and_the_minimum(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = ScriptedLimiter([])
    events: list[SlowDown] = []
    transport = RateLimitedTransport(
        answering(429, 429, headers={"Retry-After": "90"}),
        limiter,
        P,
        sleep=lambda s: None,
        on_slowdown=events.append,
    )
    with caplog.at_level(logging.WARNING, "syncbucket.ratelimit"), client(transport) as http:
        assert http.get("/a").status_code == 429
    assert limiter.slowdowns == [(0.5, 90.0, "429")]
    assert [e.reason for e in events] == ["429"]
    assert "HTTP 429 (Retry-After 90 s)" in caplog.text

    short = ScriptedLimiter([])
    transport = RateLimitedTransport(answering(429), short, P, sleep=lambda s: None)
    with client(transport) as http:
        http.get("/a")
    assert short.slowdowns == [(0.5, 30.0, "429")]


def test_retry_after_is_capped() -> None:
    limiter = ScriptedLimiter([])
    transport = RateLimitedTransport(
        answering(429, headers={"Retry-After": "86400"}), limiter, P, sleep=lambda s: None
    )
    with client(transport) as http:
        http.get("/a")
    assert limiter.slowdowns == [(0.5, 300.0, "429")]


def test_a_burst_of_5xx_slows_down_once_per_burst() -> None:
    clock = FakeClock()
    limiter = ScriptedLimiter([])
    transport = RateLimitedTransport(
        answering(500, 502, 503, 500, 504, 500, 500), limiter, P, sleep=lambda s: None, clock=clock
    )
    with client(transport) as http:
        for _ in range(7):
            http.get("/a")
            clock.advance(1)
    assert limiter.slowdowns == [(0.5, 30.0, "5xx_burst")]


def test_spread_out_5xx_and_maintenance_503_do_not_slow_down() -> None:
    clock = FakeClock()
    limiter = ScriptedLimiter([])
    spread = RateLimitedTransport(
        answering(*[500] * 6), limiter, P, sleep=lambda s: None, clock=clock
    )
    maintenance = RateLimitedTransport(
        answering(*[503] * 6, headers={"Retry-After": "600"}), limiter, P, sleep=lambda s: None
    )
    with client(spread) as a, client(maintenance) as b:
        for _ in range(6):
            a.get("/x")
            b.get("/x")
            clock.advance(3)
    assert limiter.slowdowns == []


def test_response_hook_sees_status_classes_and_failures() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("slow", request=request)
        if request.url.path == "/down":
            raise httpx.ConnectError("down", request=request)
        return httpx.Response(int(request.url.path[1:]), json={})

    transport = RateLimitedTransport(
        httpx.MockTransport(handle),
        ScriptedLimiter([]),
        P,
        sleep=lambda s: None,
        on_response=lambda portal, kind, duration: seen.append(kind),
    )
    with client(transport) as http:
        for path in ("/200", "/302", "/404", "/429", "/500"):
            http.get(path)
        with pytest.raises(httpx.ReadTimeout):
            http.get("/slow")
        with pytest.raises(httpx.ConnectError):
            http.get("/down")
    assert seen == ["2xx", "3xx", "4xx", "429", "5xx", "timeout", "connection_error"]


def test_an_unreachable_limiter_at_slow_down_still_returns_the_response() -> None:
    limiter = ScriptedLimiter([], fail_slow_down=True)
    transport = RateLimitedTransport(answering(429), limiter, P, sleep=lambda s: None)
    with client(transport) as http:
        assert http.get("/a").status_code == 429


def test_with_the_real_in_process_limiter_429_slows_everyone() -> None:
    clock = FakeClock()
    limiter = InMemoryRateLimiter({P: PortalLimit(10, 1)}, clock=clock)
    shared = ErrorBurstDetector(clock=clock)
    first = RateLimitedTransport(answering(429), limiter, P, errors=shared, sleep=clock.advance)
    with client(first) as http:
        http.get("/a")
    assert limiter.effective_rate(P) == 5.0


def test_status_class() -> None:
    assert [status_class(s) for s in (200, 304, 401, 429, 503)] == [
        "2xx",
        "3xx",
        "4xx",
        "429",
        "5xx",
    ]
