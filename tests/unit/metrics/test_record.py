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
        error_code="portal_timeout",
    )
    record.item_finished("traces", "return_summary", "failed", "portal_timeout")
    record.item_attempt("traces", "return_summary", 1.5)
    record.portal_request("traces", 429, 0.2)
    record.portal_request("traces", "timeout", None)
    assert (
        value(
            "syncbucket_items_processed_total",
            portal="traces",
            module="return_summary",
            outcome="failed",
            error_code="portal_timeout",
        )
        == before + 1
    )
    assert value("syncbucket_portal_requests_total", portal="traces", status_class="429") >= 1
    assert value("syncbucket_portal_requests_total", portal="traces", status_class="timeout") >= 1
    assert value("syncbucket_item_duration_seconds_count", portal="traces", module="return_summary")


ITEM = {"portal": "itportal", "module": "fetch_challans"}


@pytest.mark.parametrize(
    ("outcome", "code", "expected"),
    [
        ("failed", "invalid_credentials", "invalid_credentials"),
        ("failed", ErrorCode.LOCKED, "locked"),
        ("failed", "timed_out", "timed_out"),
        ("failed", "internal_error", "internal_error"),
        ("failed", "credentials_unreadable", "credentials_unreadable"),
        ("failed", "TAN AAAA12345B rejected", "other"),  # never an unbounded value
        ("failed", None, "other"),
        ("succeeded", None, "none"),
        ("skipped", "portal_maintenance", "none"),  # a code only counts on a failure
    ],
)
def test_items_carry_a_bounded_error_code(outcome: str, code: str | None, expected: str) -> None:
    sample = {**ITEM, "outcome": outcome, "error_code": expected}
    before = value("syncbucket_items_processed_total", **sample)
    record.item_finished(ITEM["portal"], ITEM["module"], outcome, code)
    assert value("syncbucket_items_processed_total", **sample) == before + 1


def test_every_portal_error_code_is_in_the_item_vocabulary() -> None:
    from syncbucket.pipeline.retry_policy import INTERNAL_ERROR, TIMED_OUT
    from syncbucket.pipeline.work_items import CREDENTIALS_UNREADABLE

    expected = {c.value for c in ErrorCode} | {INTERNAL_ERROR, TIMED_OUT, CREDENTIALS_UNREADABLE}
    assert expected <= labels.ITEM_ERROR_CODES
    assert labels.NO_ERROR not in labels.ITEM_ERROR_CODES
    groups = labels.FIRM_ERROR_CODES | labels.PORTAL_ERROR_CODES
    assert groups <= labels.ITEM_ERROR_CODES
    assert not labels.FIRM_ERROR_CODES & labels.PORTAL_ERROR_CODES


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
    for outcome, code in [("failed", "locked"), ("failed", "other"), ("succeeded", "none")]:
        sample = {**ITEM, "outcome": outcome, "error_code": code}
        assert REGISTRY.get_sample_value("syncbucket_items_processed_total", sample) is not None
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
