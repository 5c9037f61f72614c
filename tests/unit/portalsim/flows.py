"""Login flows against the simulator, shared by the simulator's tests."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from syncbucket.portalsim.accounts import demo_password

TRACES_AUTH = "/traces/app/srv/auth"
TRACES_DATA = "/traces/app/srv/deductor"
IT_LOGIN = "/itportal/iec/loginapi/login"


def captcha(client: httpx.Client) -> tuple[str, str]:
    body = client.get(f"{TRACES_AUTH}/generateCaptcha").json()
    return body["id"], base64.b64decode(body["image"]).decode()


def traces_login(client: httpx.Client, tan: str, password: str | None = None) -> Any:
    captcha_id, answer = captcha(client)
    return client.post(
        f"{TRACES_AUTH}/login",
        json={
            "userId": tan,
            "password": demo_password("traces", tan) if password is None else password,
            "captcha": answer,
            "captchaId": captcha_id,
            "userType": "Deductor",
        },
    )


def traces_session(client: httpx.Client, tan: str) -> str:
    """Log in fully and return the JSESSIONID (also left in the client's cookie jar)."""
    login = traces_login(client, tan)
    assert login.status_code == 200, login.text
    pre = client.get(
        f"{TRACES_AUTH}/preAuth", headers={"Authorization": f"Bearer {login.json()['accessToken']}"}
    )
    assert pre.status_code == 200, pre.text
    session_id: str = pre.cookies["JSESSIONID"]
    return session_id


def it_login(
    client: httpx.Client, tan: str, password: str | None = None, *, force: bool = False
) -> Any:
    first = client.post(IT_LOGIN, json={"entity": tan, "serviceName": "wLoginService"})
    assert first.status_code == 200, first.text
    return client.post(
        IT_LOGIN,
        json={
            "entity": tan,
            "serviceName": "loginService",
            "pass": demo_password("itportal", tan) if password is None else password,
            "reqId": first.json()["reqId"],
            "role": "TDS",
            "forceLogin": force,
        },
    )


def it_headers(client: httpx.Client, tan: str) -> dict[str, str]:
    reply = it_login(client, tan)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['authToken']}"}
