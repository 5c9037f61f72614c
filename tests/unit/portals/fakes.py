"""Scripted portals behind ``httpx.MockTransport`` for the clients' unit tests.

They follow docs/portal-simulator.md closely enough to drive the login flows, session
expiry and data routes; each keeps the requests it saw so tests can count logins.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from syncbucket.crypto import PortalCredentials

TAN = "DELA12345B"
PASSWORD = "Zx9!unmistakable-SECRET-pw"  # distinctive: searched for in every output
TRACES_URL = "https://traces.test/traces"
IT_URL = "https://it.test/itportal"
LOGIN_PAGE = "<html><head><title>TRACES : Login</title></head><body>login</body></html>"
Route = Callable[[httpx.Request], httpx.Response]


def credentials(password: str = PASSWORD) -> PortalCredentials:
    return PortalCredentials(user_id=TAN, password=password)


def json_reply(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class FakeTraces:
    password: str = PASSWORD
    locked: bool = False
    bad_captchas: int = 0  # how many logins to answer INVALID_CAPTCHA first
    expire: list[str] = field(default_factory=list)  # "410" | "html", one per data request
    routes: dict[str, Route] = field(default_factory=dict)  # data path (after /traces)
    seen: list[httpx.Request] = field(default_factory=list)
    logins: int = 0
    _sessions: set[str] = field(default_factory=set)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/traces")
        if path == "/app/srv/auth/generateCaptcha":
            return json_reply(200, {"id": "c-1", "image": base64.b64encode(b"K7QX").decode()})
        if path == "/app/srv/auth/login":
            return self._login(json.loads(request.content))
        if path == "/app/srv/auth/preAuth":
            if request.headers.get("Authorization") != "Bearer tok-SECRET-access":
                return json_reply(401, {"errorCode": "UNAUTHORIZED"})
            session = f"JS-SECRET-{len(self._sessions) + 1}"
            self._sessions.add(session)
            return httpx.Response(
                200, json={"status": "OK"}, headers={"Set-Cookie": f"JSESSIONID={session}; Path=/"}
            )
        return self._data(path, request)

    def _login(self, body: dict[str, Any]) -> httpx.Response:
        self.logins += 1
        if self.bad_captchas > 0 or body["captcha"] != "K7QX" or body["captchaId"] != "c-1":
            self.bad_captchas -= 1
            return json_reply(400, {"errorCode": "INVALID_CAPTCHA", "message": "Invalid captcha"})
        if self.locked:
            return json_reply(403, {"errorCode": "ACCOUNT_LOCKED", "message": "locked"})
        if body["password"] != self.password or body["userId"] != TAN:
            return json_reply(
                401, {"errorCode": "INVALID_CREDENTIALS", "message": "bad", "attemptsLeft": 4}
            )
        return json_reply(
            200,
            {
                "accessToken": "tok-SECRET-access",
                "refreshToken": "tok-SECRET-refresh",
                "expiresIn": 1800,
            },
        )

    def _data(self, path: str, request: httpx.Request) -> httpx.Response:
        cookie = request.headers.get("Cookie", "")
        valid = any(cookie == f"JSESSIONID={s}" for s in self._sessions)
        if self.expire or not valid:
            style = self.expire.pop(0) if self.expire else "410"
            if style == "html":
                return httpx.Response(200, text=LOGIN_PAGE, headers={"content-type": "text/html"})
            return json_reply(410, {"errorCode": "SESSION_EXPIRED"})
        route = self.routes.get(path)
        return route(request) if route else json_reply(404, {"errorCode": "NOT_FOUND"})


@dataclass
class FakeItPortal:
    password: str = PASSWORD
    locked: bool = False
    conflicts: int = 0  # how many password steps to answer EF00177 (unless forceLogin)
    expire: int = 0  # how many data requests to answer EF00002
    routes: dict[str, Route] = field(default_factory=dict)  # data path (after /itportal)
    seen: list[httpx.Request] = field(default_factory=list)
    password_steps: list[dict[str, Any]] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path.removeprefix("/itportal")
        if path == "/iec/loginapi/login":
            body = json.loads(request.content)
            if body["serviceName"] == "wLoginService":
                return json_reply(
                    200, {"reqId": "R-1", "entity": TAN, "role": ["TDS"], "messages": []}
                )
            return self._password(body)
        if request.headers.get("Authorization") != "Bearer it-SECRET-token" or self.expire:
            self.expire = max(0, self.expire - 1)
            return self._error(401, "EF00002", "Session expired")
        route = self.routes.get(path)
        return route(request) if route else json_reply(404, {"messages": []})

    def _password(self, body: dict[str, Any]) -> httpx.Response:
        self.password_steps.append({k: v for k, v in body.items() if k != "pass"})
        if self.locked:
            return self._error(403, "LOCKED", "Account locked")
        if body["pass"] != self.password:
            return self._error(401, "EF00027", "Invalid Password")
        if self.conflicts > 0 and not body["forceLogin"]:
            self.conflicts -= 1
            return self._error(409, "EF00177", "Session already active")
        if self.conflicts > 0:
            return self._error(409, "EF00177", "Too many sessions")
        return json_reply(200, {"authToken": "it-SECRET-token", "userId": TAN, "messages": []})

    @staticmethod
    def _error(status: int, code: str, desc: str) -> httpx.Response:
        return json_reply(status, {"messages": [{"code": code, "type": "ERROR", "desc": desc}]})


def paged(rows: list[dict[str, Any]], page_size: int = 2) -> Route:
    """A route serving ``rows`` in pages of ``page_size`` whatever pageSize was asked."""

    def route(request: httpx.Request) -> httpx.Response:
        page_no = int(request.url.params["pageNo"])
        total = max(1, -(-len(rows) // page_size))
        chunk = rows[(page_no - 1) * page_size : page_no * page_size]
        body = {
            "pageNo": page_no,
            "pageSize": page_size,
            "totalPages": total,
            "totalRecords": len(rows),
            "rows": chunk,
        }
        return json_reply(200, body)

    return route


def fixed(body: Any, status: int = 200) -> Route:
    return lambda request: json_reply(status, body)


FIXTURES = Path(__file__).parent / "fixtures"


def _key(method: str, params: dict[str, str], body: Any) -> str:
    return json.dumps([method, sorted(params.items()), body], sort_keys=True)


def replay(folder: str) -> dict[str, Route]:
    """Routes answering exactly the recorded requests of ``fixtures/<folder>`` (by path)."""
    by_path: dict[str, dict[str, tuple[int, Any]]] = {}
    for file in sorted((FIXTURES / folder).glob("*.json")):
        answer = json.loads(file.read_text())
        req = answer["request"]
        path = "/" + req["path"].strip("/").split("/", 1)[1]  # without /traces or /itportal
        key = _key(req["method"], req["params"], req["json"])
        by_path.setdefault(path, {})[key] = (answer["status"], answer["body"])

    def route_for(answers: dict[str, tuple[int, Any]]) -> Route:
        def route(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content) if request.content else None
            key = _key(request.method, dict(request.url.params), body)
            status, recorded = answers[key]
            return json_reply(status, recorded)

        return route

    return {path: route_for(answers) for path, answers in by_path.items()}


def fixture_tan(folder: str) -> str:
    return (FIXTURES / folder / "tan.txt").read_text().strip()
