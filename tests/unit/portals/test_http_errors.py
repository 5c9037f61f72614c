"""Every fault kind is classified at the boundary (portals/http.py), with a usable message."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from syncbucket.domain.portals import Portal
from syncbucket.portals.errors import (
    ErrorCode,
    PortalError,
    PortalMaintenance,
    PortalPermanent,
    PortalRateLimited,
    PortalTransient,
    SessionExpired,
)
from syncbucket.portals.http import PortalHttp, PortalTimeouts, parse_retry_after

from .fakes import LOGIN_PAGE

Handler = Callable[[httpx.Request], httpx.Response]


def call(handler: Handler, *, timeouts: PortalTimeouts | None = None) -> object:
    http = PortalHttp(
        portal=Portal.TRACES,
        base_url="https://traces.test/traces",
        transport=httpx.MockTransport(handler),
        timeouts=timeouts,
    )
    return http.request("GET", "/app/srv/deductor/statementStatus", what="the statement list").body


def raises(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def answer(status: int, content: bytes | str = b"", **headers: str) -> Handler:
    body = content.encode() if isinstance(content, str) else content
    return lambda request: httpx.Response(status, content=body, headers=headers)


JSON = {"content-type": "application/json"}
MAINTENANCE = '{"errorCode": "SERVER_MAINTENANCE_ERROR", "message": "Down for maintenance"}'
ERROR_PAGE = "<html><head><title>500 Internal</title></head><body>oops</body></html>"

CASES: list[tuple[str, Handler, type[PortalError], ErrorCode]] = [
    ("timeout", raises(httpx.ReadTimeout("timed out")), PortalTransient, ErrorCode.TIMEOUT),
    ("connect timeout", raises(httpx.ConnectTimeout("slow")), PortalTransient, ErrorCode.TIMEOUT),
    ("connect error", raises(httpx.ConnectError("refused")), PortalTransient, ErrorCode.CONNECTION),
    (
        "protocol error",
        raises(httpx.RemoteProtocolError("cut")),
        PortalTransient,
        ErrorCode.CONNECTION,
    ),
    ("500", answer(500, "{}", **JSON), PortalTransient, ErrorCode.SERVER_ERROR),
    (
        "502 html",
        answer(502, ERROR_PAGE, **{"content-type": "text/html"}),
        PortalTransient,
        ErrorCode.SERVER_ERROR,
    ),
    (
        "503 plain",
        answer(503, '{"errorCode": "BUSY"}', **JSON),
        PortalTransient,
        ErrorCode.SERVER_ERROR,
    ),
    (
        "503 maintenance",
        answer(503, MAINTENANCE, **JSON, **{"Retry-After": "60"}),
        PortalMaintenance,
        ErrorCode.MAINTENANCE,
    ),
    (
        "429",
        answer(429, "{}", **JSON, **{"Retry-After": "7"}),
        PortalRateLimited,
        ErrorCode.RATE_LIMITED,
    ),
    ("429 no header", answer(429, ""), PortalRateLimited, ErrorCode.RATE_LIMITED),
    (
        "410",
        answer(410, '{"errorCode": "SESSION_EXPIRED"}', **JSON),
        SessionExpired,
        ErrorCode.SESSION_EXPIRED,
    ),
    (
        "401",
        answer(401, '{"messages": [{"code": "EF00002"}]}', **JSON),
        SessionExpired,
        ErrorCode.SESSION_EXPIRED,
    ),
    (
        "login page",
        answer(200, LOGIN_PAGE, **{"content-type": "text/html"}),
        SessionExpired,
        ErrorCode.SESSION_EXPIRED,
    ),
    (
        "redirect to login",
        answer(302, "", location="/traces/login.xhtml"),
        SessionExpired,
        ErrorCode.SESSION_EXPIRED,
    ),
    (
        "html page",
        answer(200, ERROR_PAGE, **{"content-type": "text/html"}),
        PortalTransient,
        ErrorCode.ERROR_PAGE,
    ),
    ("html without type", answer(200, ERROR_PAGE), PortalTransient, ErrorCode.ERROR_PAGE),
    (
        "truncated",
        answer(200, '{"pageNo": 1, "rows": [{"tok', **JSON),
        PortalTransient,
        ErrorCode.TRUNCATED,
    ),
    ("empty body", answer(200, "", **JSON), PortalTransient, ErrorCode.TRUNCATED),
    (
        "404",
        answer(404, '{"errorCode": "NOT_FOUND"}', **JSON),
        PortalPermanent,
        ErrorCode.NOT_FOUND,
    ),
    (
        "400",
        answer(400, '{"errorCode": "BAD_PAGE"}', **JSON),
        PortalPermanent,
        ErrorCode.CLIENT_ERROR,
    ),
    (
        "403 html",
        answer(403, ERROR_PAGE, **{"content-type": "text/html"}),
        PortalPermanent,
        ErrorCode.UNEXPECTED_RESPONSE,
    ),
]


@pytest.mark.parametrize(
    ("handler", "kind", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_fault_is_classified(handler: Handler, kind: type[PortalError], code: ErrorCode) -> None:
    with pytest.raises(kind) as caught:
        call(handler)
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert caught.value.portal == "traces"
    assert "oops" not in str(caught.value) and "{" not in caught.value.message  # no bodies


def test_transport_errors_are_chained() -> None:
    with pytest.raises(PortalTransient) as caught:
        call(raises(httpx.ConnectError("refused")))
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_retry_after_is_carried() -> None:
    with pytest.raises(PortalRateLimited) as limited:
        call(answer(429, "{}", **{"Retry-After": "7"}))
    assert limited.value.retry_after == 7.0
    with pytest.raises(PortalRateLimited) as unknown:
        call(answer(429, "{}"))
    assert unknown.value.retry_after is None
    with pytest.raises(PortalMaintenance) as maintenance:
        call(answer(503, MAINTENANCE, **JSON, **{"Retry-After": "60"}))
    assert maintenance.value.retry_after == 60.0
    assert str(maintenance.value) == (
        "[traces] portal_maintenance: TRACES is down for maintenance; "
        "the item will be retried after 60 s"
    )


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert (parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT") or 0) > 0


def test_json_amounts_arrive_as_decimal() -> None:
    body = call(answer(200, '{"amount": 1234.1}', **JSON))
    assert body == {"amount": Decimal("1234.1")}


def test_every_request_has_explicit_timeouts() -> None:
    seen: list[dict[str, float | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json={})

    call(handler, timeouts=PortalTimeouts(connect=2.5, read=9.0))
    assert seen == [{"connect": 2.5, "read": 9.0, "write": 9.0, "pool": 2.5}]


def test_timeout_message_names_the_limit() -> None:
    with pytest.raises(PortalTransient) as caught:
        call(raises(httpx.ReadTimeout("timed out")), timeouts=PortalTimeouts(connect=1, read=3))
    assert "read 3 s" in caught.value.message


def test_passed_transport_is_not_closed_with_the_client() -> None:
    closed: list[bool] = []

    class Transport(httpx.MockTransport):
        def close(self) -> None:
            closed.append(True)

    http = PortalHttp(
        portal=Portal.TRACES,
        base_url="https://traces.test/traces",
        transport=Transport(lambda request: httpx.Response(200, json={})),
    )
    http.close()
    assert closed == []
