"""Login flows of both clients, and the re-login-once rule, against scripted portals."""

from __future__ import annotations

import json

import pytest

from syncbucket.portals.errors import (
    AccountLocked,
    ErrorCode,
    InvalidCredentials,
    PortalTransient,
)
from syncbucket.portals.itportal.client import ItPortalClient, ItPortalSession
from syncbucket.portals.traces.client import TracesClient, TracesSession

from .fakes import IT_URL, TAN, TRACES_URL, FakeItPortal, FakeTraces, credentials, fixed

DATA = "/app/srv/deductor/outstandingDemand"


def traces(fake: FakeTraces, password: str | None = None) -> TracesClient:
    creds = credentials(password) if password else credentials()
    return TracesClient(base_url=TRACES_URL, credentials=creds, tan=TAN, transport=fake.transport())


def itportal(fake: FakeItPortal, password: str | None = None) -> ItPortalClient:
    creds = credentials(password) if password else credentials()
    return ItPortalClient(base_url=IT_URL, credentials=creds, tan=TAN, transport=fake.transport())


def test_traces_login_solves_captcha_and_gets_jsessionid() -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})})
    client = traces(fake)
    assert client.get_json(DATA, what="demand") == {"rows": []}
    session = client.session
    assert isinstance(session, TracesSession)
    assert session.jsessionid == "JS-SECRET-1"
    assert [r.url.path for r in fake.seen] == [
        "/traces/app/srv/auth/generateCaptcha",
        "/traces/app/srv/auth/login",
        "/traces/app/srv/auth/preAuth",
        "/traces" + DATA,
    ]
    login = json.loads(fake.seen[1].content)
    assert login["captcha"] == "K7QX" and login["userType"] == "Deductor"
    assert fake.seen[-1].headers["Cookie"] == "JSESSIONID=JS-SECRET-1"


def test_traces_rejected_captcha_gets_a_fresh_one() -> None:
    fake = FakeTraces(bad_captchas=2)
    traces(fake).login()
    assert fake.logins == 3


def test_traces_captcha_rejected_three_times_is_transient() -> None:
    with pytest.raises(PortalTransient) as caught:
        traces(FakeTraces(bad_captchas=5)).login()
    assert caught.value.code == ErrorCode.CAPTCHA_REJECTED


def test_traces_invalid_credentials_are_not_retried() -> None:
    fake = FakeTraces()
    client = traces(fake, password="wrong-one")
    with pytest.raises(InvalidCredentials) as caught:
        client.get_json(DATA, what="demand")
    assert type(caught.value) is InvalidCredentials
    assert caught.value.code == ErrorCode.INVALID_CREDENTIALS
    assert "TRACES rejected the user id or password for TAN DELA12345B" in caught.value.message
    assert "4 attempts left" in caught.value.message
    with pytest.raises(InvalidCredentials):
        client.get_json(DATA, what="demand")
    assert fake.logins == 1  # the second call never reached the portal


def test_traces_locked_account() -> None:
    with pytest.raises(AccountLocked) as caught:
        traces(FakeTraces(locked=True)).login()
    assert caught.value.code == ErrorCode.LOCKED


@pytest.mark.parametrize("style", ["410", "html"])
def test_traces_relogs_in_once_on_expiry(style: str) -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})})
    client = traces(fake)
    client.login()
    fake.expire = [style]
    assert client.get_json(DATA, what="demand") == {"rows": []}
    assert fake.logins == 2
    assert client.session is not None and client.session.jsessionid == "JS-SECRET-2"


def test_traces_second_expiry_is_transient() -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})}, expire=["410", "html"])
    client = traces(fake)
    with pytest.raises(PortalTransient) as caught:
        client.get_json(DATA, what="demand")
    assert caught.value.code == ErrorCode.SESSION_EXPIRED
    assert fake.logins == 2


def test_itportal_two_step_login() -> None:
    fake = FakeItPortal(routes={"/iec/paymentHistory": fixed({"ok": 1})})
    client = itportal(fake)
    assert client.get_json("/iec/paymentHistory", what="history") == {"ok": 1}
    assert isinstance(client.session, ItPortalSession)
    assert fake.password_steps == [
        {
            "entity": TAN,
            "serviceName": "loginService",
            "reqId": "R-1",
            "role": "TDS",
            "forceLogin": False,
        }
    ]
    assert fake.seen[-1].headers["Authorization"] == "Bearer it-SECRET-token"


def test_itportal_ef00177_forces_login_once() -> None:
    fake = FakeItPortal(conflicts=1)
    itportal(fake).login()
    assert [step["forceLogin"] for step in fake.password_steps] == [False, True]


def test_itportal_ef00177_after_force_is_transient() -> None:
    fake = FakeItPortal(conflicts=2)
    with pytest.raises(PortalTransient) as caught:
        itportal(fake).login()
    assert caught.value.code == ErrorCode.SESSION_CONFLICT
    assert len(fake.password_steps) == 2


def test_itportal_invalid_password() -> None:
    fake = FakeItPortal()
    client = itportal(fake, password="wrong-one")
    with pytest.raises(InvalidCredentials) as caught:
        client.login()
    assert caught.value.code == ErrorCode.INVALID_CREDENTIALS
    with pytest.raises(InvalidCredentials):
        client.login()
    assert len(fake.password_steps) == 1


def test_itportal_locked() -> None:
    with pytest.raises(AccountLocked):
        itportal(FakeItPortal(locked=True)).login()


def test_itportal_expiry_relogin_then_transient() -> None:
    fake = FakeItPortal(routes={"/iec/paymentHistory": fixed({"ok": 1})})
    client = itportal(fake)
    client.login()
    fake.expire = 1
    assert client.get_json("/iec/paymentHistory", what="history") == {"ok": 1}
    assert len(fake.password_steps) == 2
    fake.expire = 2
    with pytest.raises(PortalTransient) as caught:
        client.get_json("/iec/paymentHistory", what="history")
    assert caught.value.code == ErrorCode.SESSION_EXPIRED


def test_sessions_round_trip_and_are_reused() -> None:
    fake = FakeTraces(routes={DATA: fixed({"rows": []})})
    first = traces(fake)
    first.login()
    assert first.session is not None
    stored = first.session.to_dict()
    assert TracesSession.from_dict(stored) == first.session
    second = traces(fake)
    second.session = TracesSession.from_dict(stored)
    second.get_json(DATA, what="demand")
    assert fake.logins == 1  # the cached session served the second client
    it_session = ItPortalSession.from_dict(
        {"auth_token": "t", "user_id": TAN, "obtained_at": "2026-01-01T00:00:00+00:00"}
    )
    assert ItPortalSession.from_dict(it_session.to_dict()) == it_session
