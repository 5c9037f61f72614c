"""TRACES: captcha -> login -> preAuth -> JSESSIONID; lockout; single-use captcha; expiry."""

from __future__ import annotations

from fastapi.testclient import TestClient

from syncbucket.portalsim.accounts import wrong_password
from syncbucket.portalsim.state import SimulatorState
from tests.unit.portalsim.conftest import TAN
from tests.unit.portalsim.flows import (
    TRACES_AUTH,
    TRACES_DATA,
    captcha,
    traces_login,
    traces_session,
)

STATEMENTS = f"{TRACES_DATA}/statementStatus"


def test_full_login_gives_a_session_cookie_for_data_pages(client: TestClient) -> None:
    login = traces_login(client, TAN)
    assert login.status_code == 200
    assert set(login.json()) == {"accessToken", "refreshToken", "expiresIn"}
    assert login.json()["expiresIn"] == 1800
    traces_session(client, TAN)
    page = client.get(STATEMENTS)
    assert page.status_code == 200
    assert page.json()["totalRecords"] == len(page.json()["rows"]) > 0


def test_pre_auth_refuses_an_unknown_token(client: TestClient) -> None:
    reply = client.get(f"{TRACES_AUTH}/preAuth", headers={"Authorization": "Bearer nope"})
    assert reply.status_code == 401
    assert "JSESSIONID" not in reply.cookies


def test_wrong_password_counts_down_then_locks(client: TestClient, state: SimulatorState) -> None:
    lefts = [traces_login(client, TAN, wrong_password("traces", TAN)) for _ in range(4)]
    assert [r.status_code for r in lefts] == [401] * 4
    assert [r.json()["attemptsLeft"] for r in lefts] == [4, 3, 2, 1]
    assert lefts[0].json()["errorCode"] == "INVALID_CREDENTIALS"
    fifth = traces_login(client, TAN, wrong_password("traces", TAN))
    assert (fifth.status_code, fifth.json()["errorCode"]) == (403, "ACCOUNT_LOCKED")
    right_but_locked = traces_login(client, TAN)
    assert (right_but_locked.status_code, right_but_locked.json()["errorCode"]) == (
        403,
        "ACCOUNT_LOCKED",
    )
    stats = state.stats()["portals"]["traces"]
    assert stats["lockouts"] == 1
    assert stats["logins"] == {
        "attempted": 6,
        "succeeded": 0,
        "rejected": 5,
        "locked": 1,
        "session_limit": 0,
    }


def test_lock_lasts_an_hour_of_simulated_time(client: TestClient, state: SimulatorState) -> None:
    for _ in range(5):
        traces_login(client, TAN, "bad")
    state.clock.advance(3599)
    assert traces_login(client, TAN).status_code == 403
    state.clock.advance(2)
    assert traces_login(client, TAN).status_code == 200


def test_admin_reset_unlocks(client: TestClient) -> None:
    for _ in range(5):
        traces_login(client, TAN, "bad")
    assert client.post("/admin/reset").status_code == 200
    assert traces_login(client, TAN).status_code == 200


def test_success_clears_the_failure_count(client: TestClient) -> None:
    for _ in range(4):
        traces_login(client, TAN, "bad")
    assert traces_login(client, TAN).status_code == 200
    assert traces_login(client, TAN, "bad").json()["attemptsLeft"] == 4


def test_malformed_or_unknown_user_is_invalid_credentials(client: TestClient) -> None:
    reply = traces_login(client, "not-a-tan", "whatever")
    assert (reply.status_code, reply.json()["errorCode"]) == (401, "INVALID_CREDENTIALS")


def test_captcha_is_single_use_and_must_match(client: TestClient) -> None:
    captcha_id, answer = captcha(client)
    body = {"userId": TAN, "password": "x", "captcha": answer, "captchaId": captcha_id}
    body["userType"] = "Deductor"
    first = client.post(f"{TRACES_AUTH}/login", json=body)
    assert first.status_code == 401  # the captcha was right, the password not
    again = client.post(f"{TRACES_AUTH}/login", json=body)
    assert (again.status_code, again.json()["errorCode"]) == (400, "INVALID_CAPTCHA")
    captcha_id, answer = captcha(client)
    wrong = client.post(
        f"{TRACES_AUTH}/login", json={**body, "captchaId": captcha_id, "captcha": answer + "X"}
    )
    assert (wrong.status_code, wrong.json()["errorCode"]) == (400, "INVALID_CAPTCHA")


def test_invalid_captcha_does_not_count_against_the_account(client: TestClient) -> None:
    for _ in range(6):
        client.post(
            f"{TRACES_AUTH}/login",
            json={"userId": TAN, "password": "x", "captcha": "?", "captchaId": "?"},
        )
    assert traces_login(client, TAN).status_code == 200


def test_no_cookie_answers_410_by_default(client: TestClient) -> None:
    reply = client.get(STATEMENTS)
    assert (reply.status_code, reply.json()["errorCode"]) == (410, "SESSION_EXPIRED")


def test_session_expires_after_ttl_as_410(client: TestClient, state: SimulatorState) -> None:
    traces_session(client, TAN)
    state.clock.advance(1799)
    assert client.get(STATEMENTS).status_code == 200
    state.clock.advance(2)
    assert client.get(STATEMENTS).status_code == 410


def test_expiry_style_html_answers_the_login_page(
    client: TestClient, state: SimulatorState
) -> None:
    traces_session(client, TAN)
    state.set_faults("traces", session_ttl_seconds=10, session_expiry_style="html")
    state.clock.advance(11)
    reply = client.get(STATEMENTS)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert "<title>TRACES : Login</title>" in reply.text


def test_expiry_style_mixed_gives_both(client: TestClient, state: SimulatorState) -> None:
    state.set_faults("traces", session_expiry_style="mixed")
    statuses = {client.get(STATEMENTS).status_code for _ in range(30)}
    assert statuses == {200, 410}


def test_sessions_gauge_counts_live_sessions(client: TestClient, state: SimulatorState) -> None:
    traces_session(client, TAN)
    traces_session(client, "DELB12345C")
    assert state.stats()["portals"]["traces"]["sessions_live"] == 2
    state.clock.advance(1800)
    assert state.stats()["portals"]["traces"]["sessions_live"] == 0
