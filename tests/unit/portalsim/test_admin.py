"""/admin: knobs read and changed (unknown ones refused by name), reset, clock, env loading."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from syncbucket.config import ConfigError
from syncbucket.portalsim.faults import FaultSettings, UnknownKnobError, faults_from_env
from syncbucket.portalsim.state import SimulatorState
from tests.unit.portalsim.conftest import TAN
from tests.unit.portalsim.flows import traces_login


def test_defaults_are_all_off(client: TestClient) -> None:
    knobs = client.get("/admin/faults/traces").json()
    assert knobs["error_5xx_rate"] == knobs["html_rate"] == knobs["truncated_rate"] == 0
    assert knobs["maintenance"] is False and knobs["rate_limit_per_second"] == 0
    assert knobs["session_ttl_seconds"] == 1800 and knobs["timeout_hang_seconds"] == 30


def test_put_changes_only_the_given_knobs(client: TestClient) -> None:
    reply = client.put("/admin/faults/traces", json={"html_rate": 0.5})
    assert reply.status_code == 200 and reply.json()["html_rate"] == 0.5
    client.put("/admin/faults/traces", json={"maintenance": True})
    knobs = client.get("/admin/faults/traces").json()
    assert knobs["html_rate"] == 0.5 and knobs["maintenance"] is True
    assert client.get("/admin/faults/itportal").json()["maintenance"] is False


def test_put_refuses_unknown_knobs_by_name(client: TestClient) -> None:
    reply = client.put("/admin/faults/traces", json={"html_rate": 0.1, "bogus": 1, "nope": 2})
    assert reply.status_code == 422
    assert reply.json()["unknown"] == ["bogus", "nope"]
    assert "bogus" in reply.json()["detail"] and "nope" in reply.json()["detail"]
    assert client.get("/admin/faults/traces").json()["html_rate"] == 0  # nothing applied


def test_put_refuses_bad_values(client: TestClient) -> None:
    reply = client.put("/admin/faults/traces", json={"error_5xx_rate": 2})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["error_5xx_rate"]
    style = client.put("/admin/faults/traces", json={"session_expiry_style": "teapot"})
    assert style.status_code == 422


def test_unknown_portal_is_404(client: TestClient) -> None:
    assert client.get("/admin/faults/gst").status_code == 404


def test_reset_restores_start_up_knobs_and_zeroes_counters() -> None:
    start = {"traces": FaultSettings(latency_ms_max=5)}
    state = SimulatorState(start)
    state.set_faults("traces", maintenance=True)
    state.counters.request("traces", "login")
    state.reset()
    assert state.faults("traces") == start["traces"]
    assert state.stats()["portals"]["traces"]["requests"]["total"] == 0


def test_state_set_faults_raises_on_unknown_knob(state: SimulatorState) -> None:
    with pytest.raises(UnknownKnobError, match="bogus"):
        state.set_faults("traces", bogus=1)


def test_clock_advance_over_admin(client: TestClient) -> None:
    for _ in range(5):
        traces_login(client, TAN, "bad")
    assert client.post("/admin/clock/advance", json={"seconds": 3601}).status_code == 200
    assert traces_login(client, TAN).status_code == 200


def test_env_knobs_are_loaded_per_portal() -> None:
    env = {
        "SYNCBUCKET_SIM_TRACES_ERROR_5XX_RATE": "0.25",
        "SYNCBUCKET_SIM_TRACES_MAINTENANCE": "true",
        "SYNCBUCKET_SIM_ITPORTAL_RATE_LIMIT_PER_SECOND": "3",
        "SYNCBUCKET_SIM_ITPORTAL_SESSION_EXPIRY_STYLE": "html",
        "SYNCBUCKET_OTHER": "ignored",
    }
    faults = faults_from_env(env)
    assert faults["traces"].error_5xx_rate == 0.25 and faults["traces"].maintenance is True
    assert faults["itportal"].rate_limit_per_second == 3.0
    assert faults["itportal"].session_expiry_style == "html"
    assert faults["itportal"].maintenance is False


def test_env_typos_and_bad_values_fail_naming_the_variable() -> None:
    with pytest.raises(ConfigError, match="SYNCBUCKET_SIM_TRACES_HTML_RATIO"):
        faults_from_env({"SYNCBUCKET_SIM_TRACES_HTML_RATIO": "0.1"})
    with pytest.raises(ConfigError, match="SYNCBUCKET_SIM_ITPORTAL_HTML_RATE"):
        faults_from_env({"SYNCBUCKET_SIM_ITPORTAL_HTML_RATE": "lots"})
