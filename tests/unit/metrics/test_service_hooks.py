"""The services' wiring: the worker pool's transport hooks and the coordinator's counters."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from syncbucket.dispatch.fairness import Release
from syncbucket.metrics import record
from syncbucket.pipeline.reaper import ReapReport
from syncbucket.ratelimit import RateChange, SlowDown
from syncbucket_coordinator.observe import count_reaped, count_releases
from syncbucket_workers.observability import on_login, transport_hooks


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_transport_hooks_record_requests_waits_and_rates() -> None:
    hooks = transport_hooks()
    assert hooks.on_wait and hooks.on_response and hooks.on_slowdown and hooks.on_rate_change
    requests = value("syncbucket_portal_requests_total", portal="traces", status_class="429")
    waits = value("syncbucket_ratelimit_wait_seconds_count", portal="traces")
    slowdowns = value("syncbucket_ratelimit_slowdowns_total", portal="traces", reason="429")
    hooks.on_response("traces", "429", 0.2)
    hooks.on_wait("traces", 0.5)
    hooks.on_slowdown(SlowDown("traces", "429", 0.5, 10.0, 5.0, 30.0, False))
    assert value("syncbucket_portal_requests_total", portal="traces", status_class="429") == (
        requests + 1
    )
    assert value("syncbucket_ratelimit_wait_seconds_count", portal="traces") == waits + 1
    assert value("syncbucket_ratelimit_slowdowns_total", portal="traces", reason="429") == (
        slowdowns + 1
    )
    assert value("syncbucket_ratelimit_effective_per_second", portal="traces") == 5.0
    hooks.on_rate_change(RateChange("traces", 10.0, 10.0, 1.0))
    assert value("syncbucket_ratelimit_effective_per_second", portal="traces") == 10.0
    assert value("syncbucket_ratelimit_limit_per_second", portal="traces") == 10.0


def test_a_failing_hook_never_fails_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("metrics broke")

    monkeypatch.setattr(record, "portal_request", broken)
    hooks = transport_hooks()
    assert hooks.on_response is not None
    hooks.on_response("itportal", "2xx", 0.1)  # logged, not raised


def test_logins_are_counted_by_result() -> None:
    before = value("syncbucket_logins_total", portal="itportal", result="rejected")
    on_login("itportal", "rejected")
    assert value("syncbucket_logins_total", portal="itportal", result="rejected") == before + 1


def test_the_coordinator_counts_releases_and_reaper_actions() -> None:
    released = value("syncbucket_items_released_total", portal="traces")
    timed_out = value("syncbucket_reaper_actions_total", action="timed_out")
    count_releases([Release(1, "traces", 3), Release(2, "traces", 2)])
    count_reaped(ReapReport(released=0, failed=4, cancelled=0))
    assert value("syncbucket_items_released_total", portal="traces") == released + 5
    assert value("syncbucket_reaper_actions_total", action="timed_out") == timed_out + 4
