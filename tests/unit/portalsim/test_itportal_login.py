"""IT portal: two-step login, EF00027, EF00177 + forceLogin, LOCKED, EF00002 on expiry."""

from __future__ import annotations

from fastapi.testclient import TestClient

from syncbucket.portalsim.state import SimulatorState
from tests.unit.portalsim.conftest import TAN
from tests.unit.portalsim.flows import IT_LOGIN, it_headers, it_login

PAYMENTS = "/itportal/iec/paymentHistory"


def _code(reply: object) -> str:
    code: str = reply.json()["messages"][0]["code"]  # type: ignore[attr-defined]
    return code


def test_two_step_login_then_data(client: TestClient) -> None:
    first = client.post(IT_LOGIN, json={"entity": TAN, "serviceName": "wLoginService"})
    assert first.json()["role"] == ["TDS"] and first.json()["entity"] == TAN
    assert first.json()["messages"] == []
    reply = it_login(client, TAN)
    assert reply.status_code == 200
    assert reply.json()["userId"] == TAN and reply.json()["authToken"]
    page = client.get(PAYMENTS, headers={"Authorization": f"Bearer {reply.json()['authToken']}"})
    assert page.status_code == 200 and page.json()["rows"][0]["tan"] == TAN


def test_wrong_password_is_ef00027_and_five_lock(client: TestClient, state: SimulatorState) -> None:
    replies = [it_login(client, TAN, "wrong") for _ in range(5)]
    assert [(r.status_code, _code(r)) for r in replies] == [(401, "EF00027")] * 4 + [
        (403, "LOCKED")
    ]
    locked = it_login(client, TAN)
    assert (locked.status_code, _code(locked)) == (403, "LOCKED")
    assert locked.json()["messages"][0]["type"] == "ERROR"
    assert state.stats()["portals"]["itportal"]["lockouts"] == 1
    assert state.stats()["portals"]["traces"]["lockouts"] == 0  # accounts are per portal


def test_the_traces_password_is_not_the_it_password(client: TestClient) -> None:
    from syncbucket.portalsim.accounts import demo_password

    assert _code(it_login(client, TAN, demo_password("traces", TAN))) == "EF00027"


def test_malformed_entity_is_ef00027(client: TestClient) -> None:
    assert _code(it_login(client, "XX1", "whatever")) == "EF00027"


def test_session_limit_then_force_login_evicts_the_oldest(
    client: TestClient, state: SimulatorState
) -> None:
    state.set_faults("itportal", max_sessions=2)
    oldest = it_headers(client, TAN)
    newer = it_headers(client, TAN)
    refused = it_login(client, TAN)
    assert (refused.status_code, _code(refused)) == (409, "EF00177")
    forced = it_login(client, TAN, force=True)
    assert forced.status_code == 200
    gone = client.get(PAYMENTS, headers=oldest)
    assert (gone.status_code, _code(gone)) == (401, "EF00002")
    assert client.get(PAYMENTS, headers=newer).status_code == 200
    assert state.stats()["portals"]["itportal"]["logins"]["session_limit"] == 1
    assert state.stats()["portals"]["itportal"]["sessions_live"] == 2


def test_step_two_needs_the_request_id_of_step_one(client: TestClient) -> None:
    reply = client.post(
        IT_LOGIN,
        json={"entity": TAN, "serviceName": "loginService", "pass": "x", "reqId": "made-up"},
    )
    assert reply.status_code == 400


def test_expired_session_is_ef00002(client: TestClient, state: SimulatorState) -> None:
    headers = it_headers(client, TAN)
    state.clock.advance(1801)
    reply = client.get(PAYMENTS, headers=headers)
    assert (reply.status_code, _code(reply)) == (401, "EF00002")
    assert client.get(PAYMENTS).status_code == 401  # no token at all
