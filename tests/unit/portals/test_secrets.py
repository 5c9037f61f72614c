"""Credentials, tokens and cookies never show in repr, exceptions or logs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.errors import PortalError
from syncbucket.portals.itportal.client import ItPortalClient
from syncbucket.portals.traces.client import TracesClient

from .fakes import IT_URL, PASSWORD, TAN, TRACES_URL, FakeItPortal, FakeTraces, credentials

SECRETS = (PASSWORD, "SECRET")  # the fakes' tokens and cookies all contain "SECRET"


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _traces(handler: Callable[[httpx.Request], httpx.Response]) -> AnyPortalClient:
    return TracesClient(
        base_url=TRACES_URL,
        credentials=credentials(),
        tan=TAN,
        transport=httpx.MockTransport(handler),
    )


def _failing(status: int, body: bytes) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, content=body)


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def _it(**knobs: Any) -> Callable[[], AnyPortalClient]:
    return lambda: ItPortalClient(
        base_url=IT_URL,
        credentials=credentials(),
        tan=TAN,
        transport=FakeItPortal(**knobs).transport(),
    )


def _tr(**knobs: Any) -> Callable[[], AnyPortalClient]:
    return lambda: TracesClient(
        base_url=TRACES_URL,
        credentials=credentials(),
        tan=TAN,
        transport=FakeTraces(**knobs).transport(),
    )


def scenarios() -> list[Callable[[], AnyPortalClient]]:
    return [
        _tr(password="other"),
        _tr(locked=True),
        _tr(bad_captchas=9),
        _tr(expire=["410", "html"]),
        _it(password="other"),
        _it(locked=True),
        _it(conflicts=5),
        _it(expire=5),
        lambda: _traces(_timeout),
        lambda: _traces(_failing(500, PASSWORD.encode())),
        lambda: _traces(_failing(200, b'{"echo": "' + PASSWORD.encode())),
        lambda: _traces(_failing(400, b'{"errorCode": "' + PASSWORD.encode() + b'"}')),
    ]


@pytest.mark.parametrize("make", scenarios())
def test_no_secret_in_errors_repr_or_logs(
    make: Callable[[], AnyPortalClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make()
    with pytest.raises(PortalError) as caught:
        client.get_json("/app/srv/deductor/ldcList", what="the list")
    texts = [repr(client), repr(client.session), caplog.text]
    for exc in _chain(caught.value):
        texts += [str(exc), repr(exc), *map(str, exc.args)]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_successful_session_repr_hides_tokens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = TracesClient(
        base_url=TRACES_URL, credentials=credentials(), tan=TAN, transport=FakeTraces().transport()
    )
    session = client.login()
    for text in (repr(client), repr(session), str(session), caplog.text):
        for secret in SECRETS:
            assert secret not in text
    assert "DELA12345B" in repr(client)
