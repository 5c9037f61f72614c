"""The boundary: the ONE place where portal HTTP failures become ``PortalError`` objects.

:class:`syncbucket.portals.http.PortalHttp` sends every request and hands each failure to
this module, the way httpx maps httpcore errors (``raise Mapped(...) from exc``)::

    httpx.TimeoutException ........................ PortalTransient      TIMEOUT
    other httpx.TransportError / RequestError ..... PortalTransient      CONNECTION
    429 ........................................... PortalRateLimited    RATE_LIMITED (Retry-After)
    503 + {"errorCode": "SERVER_MAINTENANCE_ERROR"} PortalMaintenance    MAINTENANCE (Retry-After)
    other 5xx ..................................... PortalTransient      SERVER_ERROR
    410, 401, login page (HTML or redirect) ....... SessionExpired       SESSION_EXPIRED
    2xx with another HTML page (an error page) .... PortalTransient      ERROR_PAGE
    3xx/4xx with another HTML page ................ PortalPermanent      UNEXPECTED_RESPONSE
    cut or invalid JSON ........................... PortalTransient      TRUNCATED
    404 ........................................... PortalPermanent      NOT_FOUND
    other 4xx, other 3xx .......................... PortalPermanent      CLIENT_ERROR

    PortalError
    ├── PortalTransient            timeouts, connection errors, 5xx, cut JSON, a 200 error page
    │   └── PortalRateLimited      429
    ├── PortalMaintenance          503 SERVER_MAINTENANCE_ERROR
    ├── PortalPermanent            404, other 4xx (HTML or not), a malformed field
    ├── InvalidCredentials         raised by the clients' login, never here
    │   └── AccountLocked
    └── SessionExpired             410 / 401 / login page: the client re-logs in once

Deviations, on purpose: a cut JSON body is a transfer glitch, so it is *transient*; so is
an HTML page answered with 200 where JSON was expected (not the login page): on TRACES and
the IT portal that is a gateway or "service unavailable" page far more often than a
lasting change, and a retry a few seconds later gets the data -- while a portal that
really changed still fails the item after MAX_ATTEMPTS, with this code; a 401
on an authenticated request means the portal no longer accepts the token (the IT portal's
``EF00002``), so it is a session expiry like 410. Callers that expect specific error bodies
(login, LDC not found) pass ``on_error``, which may raise before the generic rules apply.

Messages are written for a person and never contain credentials, tokens, cookies or
bodies; only the portal's short ``errorCode`` may be quoted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

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

PORTAL_NAMES: dict[str, str] = {Portal.TRACES: "TRACES", Portal.ITPORTAL: "the IT portal"}
_LOGIN_TITLE = re.compile(rb"<title>[^<]*log\s*in[^<]*</title>", re.IGNORECASE)
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def portal_name(portal: str, *, capital: bool = False) -> str:
    name = PORTAL_NAMES.get(portal, portal)
    return name[0].upper() + name[1:] if capital else name


def transport_error(exc: httpx.RequestError, *, portal: str, what: str, limits: str) -> PortalError:
    """A request that got no answer: a timeout (``limits`` says which) or a broken link."""
    if isinstance(exc, httpx.TimeoutException):
        return PortalTransient(
            f"{portal_name(portal, capital=True)} did not answer {what} in time ({limits}); "
            "the item will be retried",
            portal=portal,
            code=ErrorCode.TIMEOUT,
        )
    # The class name says enough (ConnectError, RemoteProtocolError); str(exc) may not be safe.
    return PortalTransient(
        f"could not reach {portal_name(portal)} for {what} ({type(exc).__name__}); "
        "the item will be retried",
        portal=portal,
        code=ErrorCode.CONNECTION,
    )


def success_body(response: httpx.Response, *, portal: str, what: str) -> Any:
    """The JSON of a 2xx answer, or the error an HTML page or a cut body stands for."""
    if is_html(response):
        raise html_error(response, portal=portal, what=what, transient=True)
    try:
        # Decimal, not float: amounts must not pick up binary rounding on the way in.
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise PortalTransient(
            f"{portal_name(portal, capital=True)} sent an incomplete or invalid answer for "
            f"{what}; the item will be retried",
            portal=portal,
            code=ErrorCode.TRUNCATED,
        ) from exc


def response_error(response: httpx.Response, *, portal: str, what: str) -> PortalError:
    """The classified error for a non-2xx answer (see the table above)."""
    status = response.status_code
    name = portal_name(portal, capital=True)
    code = error_code_of(json_or_none(response))
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return PortalRateLimited(
            f"{name} is limiting our request rate (HTTP 429) at {what}; "
            f"the request will be retried {_after(retry_after, 'after a pause')}",
            portal=portal,
            retry_after=retry_after,
        )
    if status == 503 and code == "SERVER_MAINTENANCE_ERROR":
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return PortalMaintenance(
            f"{name} is down for maintenance; the item will be retried {_after(retry_after)}",
            portal=portal,
            retry_after=retry_after,
        )
    if status >= 500:
        return PortalTransient(
            f"{name} answered HTTP {status} for {what}; the item will be retried",
            portal=portal,
            code=ErrorCode.SERVER_ERROR,
        )
    return _refusal(response, portal=portal, what=what, code=code)


def _refusal(response: httpx.Response, *, portal: str, what: str, code: str | None) -> PortalError:
    """3xx/4xx: an expired session, an HTML page, or a request the portal will not serve."""
    status = response.status_code
    if status in (401, 410) or _redirects_to_login(response):
        return session_expired(portal, what)
    if is_html(response):
        return html_error(response, portal=portal, what=what)
    name = portal_name(portal, capital=True)
    quoted = f" ({code})" if code else ""
    if status == 404:
        return PortalPermanent(
            f"{name} does not know {what} (HTTP 404{quoted}); check that the portal address "
            "is right and the page still exists",
            portal=portal,
            code=ErrorCode.NOT_FOUND,
        )
    return PortalPermanent(
        f"{name} refused the request for {what} (HTTP {status}{quoted}); retrying will not "
        "help until the request or the account is corrected",
        portal=portal,
        code=ErrorCode.CLIENT_ERROR,
    )


def session_expired(portal: str, what: str) -> SessionExpired:
    return SessionExpired(f"the {portal_name(portal)} session expired during {what}", portal=portal)


def html_error(
    response: httpx.Response, *, portal: str, what: str, transient: bool = False
) -> PortalError:
    """An HTML page where JSON was expected: the login page means the session is gone;
    another page is a passing error page on a 2xx (``transient``), a refusal otherwise."""
    if _LOGIN_TITLE.search(response.content[:4096]):
        return session_expired(portal, what)
    if transient:
        return PortalTransient(
            f"{portal_name(portal, capital=True)} answered an error page instead of data "
            f"for {what}; the item will be retried (a portal that keeps doing so may have "
            "changed)",
            portal=portal,
            code=ErrorCode.ERROR_PAGE,
        )
    return PortalPermanent(
        f"{portal_name(portal, capital=True)} answered an HTML page instead of data for "
        f"{what}: the portal showed an error page or has changed",
        portal=portal,
        code=ErrorCode.UNEXPECTED_RESPONSE,
    )


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: an integer, or an HTTP date. Anything else means unknown."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _after(retry_after: float | None, unknown: str = "later") -> str:
    return unknown if retry_after is None else f"after {retry_after:g} s"


def is_html(response: httpx.Response) -> bool:
    if "html" in response.headers.get("content-type", "").lower():
        return True
    return response.content[:64].lstrip().startswith(b"<")


def _redirects_to_login(response: httpx.Response) -> bool:
    return response.is_redirect and "login" in response.headers.get("location", "").lower()


def json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return None


def error_code_of(body: Any) -> str | None:
    """The portal's short error code (TRACES ``errorCode`` or IT portal ``messages[].code``).

    Only a code that looks like one is returned: it may be quoted in messages.
    """
    code: Any = None
    if isinstance(body, Mapping):
        code = body.get("errorCode")
        messages = body.get("messages")
        if code is None and isinstance(messages, list) and messages:
            first = messages[0]
            code = first.get("code") if isinstance(first, Mapping) else None
    if isinstance(code, str) and _SAFE_CODE.match(code):
        return code
    return None
