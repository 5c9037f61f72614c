"""Each fault knob produces its symptom on the wire; admin and metrics stay unfaulted."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from syncbucket.portalsim.state import SimulatorState
from tests.unit.portalsim.conftest import TAN
from tests.unit.portalsim.flows import TRACES_AUTH, TRACES_DATA, it_headers, traces_session

CAPTCHA = f"{TRACES_AUTH}/generateCaptcha"
STATEMENTS = f"{TRACES_DATA}/statementStatus"


def test_error_5xx_rate_answers_server_errors(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("traces", error_5xx_rate=1.0)
    statuses = {client.get(CAPTCHA).status_code for _ in range(30)}
    assert statuses == {500, 502, 503}
    reply = client.get(CAPTCHA)
    assert "Retry-After" not in reply.headers and "SERVER_MAINTENANCE" not in reply.text
    assert client.get("/admin/stats").status_code == 200  # admin is never faulted


def test_a_partial_rate_faults_only_some(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("traces", error_5xx_rate=0.3)
    failures = sum(client.get(CAPTCHA).status_code >= 500 for _ in range(200))
    assert 30 < failures < 90


def test_html_rate_answers_an_error_page_on_data_only(
    client: TestClient, state: SimulatorState
) -> None:
    traces_session(client, TAN)
    state.set_faults("traces", html_rate=1.0)
    reply = client.get(STATEMENTS)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    assert "<html" in reply.text and "TRACES : Login" not in reply.text
    assert client.get(CAPTCHA).headers["content-type"] == "application/json"


def test_truncated_rate_cuts_the_json_in_half(client: TestClient, state: SimulatorState) -> None:
    traces_session(client, TAN)
    whole = client.get(STATEMENTS).content
    state.set_faults("traces", truncated_rate=1.0)
    reply = client.get(STATEMENTS)
    assert reply.status_code == 200
    assert reply.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)


def test_maintenance_answers_503_with_retry_after(
    client: TestClient, state: SimulatorState
) -> None:
    state.set_faults("itportal", maintenance=True, maintenance_retry_after_seconds=120)
    reply = client.post("/itportal/iec/loginapi/login", json={"entity": TAN})
    assert reply.status_code == 503
    assert reply.headers["Retry-After"] == "120"
    assert reply.json()["errorCode"] == "SERVER_MAINTENANCE_ERROR"
    assert client.get(CAPTCHA).status_code == 200  # the other portal is fine


def test_rate_limit_answers_429_with_retry_after_and_counts(
    client: TestClient, state: SimulatorState
) -> None:
    state.set_faults("traces", rate_limit_per_second=0.5, rate_limit_burst=3)
    statuses = [client.get(CAPTCHA).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    reply = client.get(CAPTCHA)
    assert reply.status_code == 429
    assert reply.headers["Retry-After"].isdigit() and int(reply.headers["Retry-After"]) >= 1
    assert reply.json()["errorCode"] == "TOO_MANY_REQUESTS"
    assert client.get("/admin/stats").json()["portals"]["traces"]["rate_limited"] == 3
    metrics = client.get("/metrics").text
    assert 'syncbucket_sim_rate_limited_total{portal="traces"} 3.0' in metrics
    assert 'syncbucket_sim_responses_total{portal="traces",status="429"} 3.0' in metrics


def test_rate_limit_is_checked_before_maintenance(
    client: TestClient, state: SimulatorState
) -> None:
    state.set_faults("traces", rate_limit_per_second=0.1, rate_limit_burst=1, maintenance=True)
    assert [client.get(CAPTCHA).status_code for _ in range(2)] == [503, 429]


def test_it_portal_429_keeps_its_message_shape(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("itportal", rate_limit_per_second=0.1, rate_limit_burst=1)
    client.post("/itportal/iec/loginapi/login", json={"entity": TAN})
    reply = client.post("/itportal/iec/loginapi/login", json={"entity": TAN})
    assert reply.status_code == 429 and reply.json()["messages"][0]["code"] == "TOO_MANY_REQUESTS"


def test_latency_stays_within_bounds(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("traces", latency_ms_min=40, latency_ms_max=60)
    for _ in range(5):
        started = time.perf_counter()
        assert client.get(CAPTCHA).status_code == 200
        assert 0.04 <= time.perf_counter() - started < 0.5


def test_timeout_rate_hangs_for_the_hang_time(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("traces", timeout_rate=1.0, timeout_hang_seconds=0.3)
    started = time.perf_counter()
    reply = client.get(CAPTCHA)
    assert 0.3 <= time.perf_counter() - started < 2
    assert reply.status_code == 200  # it answers after hanging; clients time out before


def test_it_portal_faults_on_data(client: TestClient, state: SimulatorState) -> None:
    headers = it_headers(client, TAN)
    state.set_faults("itportal", truncated_rate=1.0)
    reply = client.get("/itportal/iec/paymentHistory", headers=headers)
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)


def test_requests_are_counted_by_endpoint(client: TestClient, state: SimulatorState) -> None:
    traces_session(client, TAN)
    client.get(STATEMENTS)
    client.get("/traces/nowhere/abc123")
    by_endpoint = state.stats()["portals"]["traces"]["requests"]["by_endpoint"]
    assert by_endpoint == {
        "generateCaptcha": 1,
        "login": 1,
        "preAuth": 1,
        "statementStatus": 1,
        "other": 1,
    }
    metrics = client.get("/metrics").text
    assert (
        'syncbucket_sim_requests_total{endpoint="statementStatus",portal="traces"} 1.0' in metrics
    )
    assert 'syncbucket_sim_logins_total{portal="traces",result="succeeded"} 1.0' in metrics
    assert 'syncbucket_sim_sessions{portal="traces"} 1.0' in metrics
