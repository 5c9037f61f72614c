"""The recording functions: right series, bounded labels whatever the caller passes."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from syncbucket.metrics import labels, record
from syncbucket.portals.errors import ErrorCode


def value(name: str, **label_values: str) -> float:
    return REGISTRY.get_sample_value(name, label_values) or 0.0


@pytest.mark.parametrize(
    ("code", "expected"),
    [(200, "2xx"), (302, "3xx"), (404, "4xx"), (429, "429"), (503, "5xx"), (99, "other")],
)
def test_status_class(code: int, expected: str) -> None:
    assert labels.status_class(code) == expected


def test_unknown_label_values_become_other() -> None:
    before = value("syncbucket_retries_total", portal="traces", reason="other")
    record.retry_scheduled("traces", "AAAPA1234A timed out after 3s")
    assert value("syncbucket_retries_total", portal="traces", reason="other") == before + 1


def test_error_codes_are_reasons() -> None:
    before = value("syncbucket_retries_total", portal="itportal", reason="portal_timeout")
    record.retry_scheduled("itportal", ErrorCode.TIMEOUT)
    assert value("syncbucket_retries_total", portal="itportal", reason="portal_timeout") == (
        before + 1
    )


def test_item_and_request_observations() -> None:
    before = value(
        "syncbucket_items_processed_total",
        portal="traces",
        module="return_summary",
        outcome="failed",
    )
    record.item_finished("traces", "return_summary", "failed")
    record.item_attempt("traces", "return_summary", 1.5)
    record.portal_request("traces", 429, 0.2)
    record.portal_request("traces", "timeout", None)
    assert (
        value(
            "syncbucket_items_processed_total",
            portal="traces",
            module="return_summary",
            outcome="failed",
        )
        == before + 1
    )
    assert value("syncbucket_portal_requests_total", portal="traces", status_class="429") >= 1
    assert value("syncbucket_portal_requests_total", portal="traces", status_class="timeout") >= 1
    assert value("syncbucket_item_duration_seconds_count", portal="traces", module="return_summary")


def test_dispatcher_tick_reports_missing_portals_as_empty() -> None:
    record.dispatcher_tick([record.PortalBacklog("traces", pending=7, inflight=3, window=48)])
    assert value("syncbucket_dispatcher_pending_items", portal="traces") == 7
    assert value("syncbucket_dispatcher_window_items", portal="traces") == 48
    assert (
        REGISTRY.get_sample_value("syncbucket_dispatcher_pending_items", {"portal": "itportal"})
        == 0
    )


def test_queue_depths_ignore_foreign_queues() -> None:
    record.queue_depths({"portal.traces.XQ": 2, "someone.elses.queue": 5})
    assert value("syncbucket_queue_messages", queue="portal.traces.XQ") == 2
    assert (
        REGISTRY.get_sample_value("syncbucket_queue_messages", {"queue": "someone.elses.queue"})
        is None
    )


def test_free_form_labels_are_token_shaped() -> None:
    record.request_rejected("malformed")
    record.request_rejected("bad request from 10.0.0.1: {json}")
    assert value("syncbucket_requests_rejected_total", reason="malformed") >= 1
    assert value("syncbucket_requests_rejected_total", reason="other") >= 1


def test_run_and_outbox_facts() -> None:
    record.run_completed("completed_with_errors", 42.0)
    record.outbox_state(3, 12.5)
    record.runs_progress(2, 30.0)
    assert value("syncbucket_runs_completed_total", status="completed_with_errors") >= 1
    assert value("syncbucket_outbox_oldest_pending_age_seconds") == 12.5
    assert value("syncbucket_runs_active") == 2


def test_worker_series_start_at_zero() -> None:
    record.init_worker_series("itportal")
    assert (
        REGISTRY.get_sample_value(
            "syncbucket_portal_requests_total", {"portal": "itportal", "status_class": "5xx"}
        )
        is not None
    )
    assert (
        REGISTRY.get_sample_value(
            "syncbucket_logins_total", {"portal": "itportal", "result": "locked"}
        )
        is not None
    )
