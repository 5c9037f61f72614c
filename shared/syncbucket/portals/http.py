"""The HTTP layer every portal client shares.

Every request of a portal client (captcha and login included) goes through
:meth:`PortalHttp.request`, hence through the client's httpx transport: a rate-limiting
transport wrapped around the real one sees all of them. Every request carries explicit
connect/read timeouts. Every failure is translated by :mod:`syncbucket.portals.boundary`
(the error table and the exception tree are drawn there) and raised ``from`` its cause.

Callers that expect a specific error body (a refused login, an unknown LDC) pass
``on_error``: it sees (status, JSON body or None) of a non-2xx answer and may raise its own
error before the generic rules apply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from syncbucket.config import Settings
from syncbucket.domain.portals import Portal
from syncbucket.portals.boundary import (
    error_code_of,
    json_or_none,
    parse_retry_after,
    portal_name,
    response_error,
    success_body,
    transport_error,
)

__all__ = [
    "ErrorHook",
    "PortalHttp",
    "PortalTimeouts",
    "Reply",
    "error_code_of",
    "parse_retry_after",
    "portal_name",
]

log = logging.getLogger(__name__)

# Called with (status, JSON body or None) for a non-2xx answer; may raise a specific error.
ErrorHook = Callable[[int, Any], None]


@dataclass(frozen=True)
class PortalTimeouts:
    """Connect and read timeouts, in seconds; applied explicitly to every request."""

    connect: float = 10.0
    read: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PortalTimeouts:
        return cls(
            connect=settings.portal_connect_timeout_seconds,
            read=settings.portal_read_timeout_seconds,
        )

    def to_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.read, connect=self.connect, pool=self.connect)

    def describe(self) -> str:
        return f"connect {self.connect:g} s, read {self.read:g} s"


@dataclass(frozen=True)
class Reply:
    """A successful JSON answer. Body and cookies stay out of repr: they may hold tokens."""

    status: int
    body: Any = field(repr=False)
    cookies: Mapping[str, str] = field(repr=False, default_factory=dict)


class _BorrowedTransport(httpx.BaseTransport):
    """A transport the caller passed in stays theirs: closing our client must not close it."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    def close(self) -> None:
        pass


class PortalHttp:
    """One httpx client for one portal client; raises only classified PortalError objects."""

    def __init__(
        self,
        *,
        portal: Portal,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        timeouts: PortalTimeouts | None = None,
    ) -> None:
        self.portal = portal
        self.timeouts = timeouts or PortalTimeouts()
        # The session object is the only place session state lives (so it can be cached and
        # reused elsewhere): the jar refuses every cookie, the clients send them explicitly.
        jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            transport=_BorrowedTransport(transport) if transport is not None else None,
            timeout=self.timeouts.to_httpx(),
            cookies=jar,
            follow_redirects=False,
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url).rstrip("/")

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, str | int] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        on_error: ErrorHook | None = None,
    ) -> Reply:
        """Send one request; return its JSON answer or raise a classified ``PortalError``."""
        try:
            response = self._client.request(
                method,
                path,
                params=params,
                json=json_body,
                headers=headers,
                timeout=self.timeouts.to_httpx(),
            )
        except httpx.RequestError as exc:
            raise transport_error(
                exc, portal=self.portal, what=what, limits=self.timeouts.describe()
            ) from exc
        log.debug("%s %s %s -> %s", self.portal, method, path, response.status_code)
        if not response.is_success:
            if on_error is not None:
                on_error(response.status_code, json_or_none(response))
            raise response_error(response, portal=self.portal, what=what)
        body = success_body(response, portal=self.portal, what=what)
        return Reply(status=response.status_code, body=body, cookies=dict(response.cookies))
