"""What every portal client shares: session state, login-once rules, authenticated calls.

A client holds one portal session for one deductor (TAN). The session is a small frozen,
serialisable dataclass (tokens/cookies + ``obtained_at``) exposed as ``client.session`` and
settable, so a caller can cache it (encrypted) and hand it to a client in another process.

Rules (docs/architecture.md §8, §9):

- a data call without a session logs in first;
- a data call that meets ``SessionExpired`` renews the session exactly once and repeats the
  call; a second expiry on that call is ``PortalTransient(SESSION_EXPIRED)``. The renewal
  is the client's own ``login()`` unless a ``relogin`` hook is set: then the hook gets the
  expired session and answers the one to use, so a shared session cache can make exactly
  one process log in while every other one picks the renewed session up
  (:mod:`syncbucket.pipeline.portal_fetch`);
- a login rejected as invalid (or locked) is remembered: later calls on this client raise
  the same error without contacting the portal, because 5 failures lock the account.
"""

from __future__ import annotations

import dataclasses
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

import httpx

from syncbucket.crypto import PortalCredentials
from syncbucket.domain.identifiers import validate_tan
from syncbucket.domain.portals import Portal
from syncbucket.portals.errors import (
    ErrorCode,
    InvalidCredentials,
    PortalTransient,
    SessionExpired,
)
from syncbucket.portals.fields import Fields
from syncbucket.portals.http import ErrorHook, PortalHttp, PortalTimeouts, Reply, portal_name
from syncbucket.portals.pagination import PAGE_SIZE, walk_pages

log = logging.getLogger(__name__)


class SerialisableSession:
    """Mixin for the session dataclasses: a flat ``dict[str, str]`` round trip."""

    obtained_at: datetime

    def to_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, item.name)
            out[item.name] = value.isoformat() if isinstance(value, datetime) else str(value)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Self:
        values: dict[str, Any] = {}
        for item in dataclasses.fields(cls):  # type: ignore[arg-type]
            text = data[item.name]
            values[item.name] = datetime.fromisoformat(text) if item.name == "obtained_at" else text
        return cls(**values)

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.obtained_at).total_seconds()


S = TypeVar("S", bound=SerialisableSession)


class PortalClient(ABC, Generic[S]):
    """A logged-in conversation with one portal for one TAN. Not thread-safe."""

    portal: ClassVar[Portal]

    def __init__(
        self,
        *,
        base_url: str,
        credentials: PortalCredentials,
        tan: str,
        transport: httpx.BaseTransport | None = None,
        timeouts: PortalTimeouts | None = None,
    ) -> None:
        self.tan = validate_tan(tan)
        self._credentials = credentials
        self._http = PortalHttp(
            portal=self.portal, base_url=base_url, transport=transport, timeouts=timeouts
        )
        self._session: S | None = None
        self._refused: InvalidCredentials | None = None
        # Called with the expired session; answers the renewed one (see the module docstring).
        self.relogin: Callable[[S], S] | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(tan={self.tan!r}, base_url={self._http.base_url!r}, "
            f"logged_in={self._session is not None})"
        )

    @property
    def session(self) -> S | None:
        return self._session

    @session.setter
    def session(self, value: S | None) -> None:
        self._session = value

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @abstractmethod
    def _login(self) -> S:
        """Run the portal's login steps; raise InvalidCredentials/AccountLocked if refused."""

    @abstractmethod
    def _auth_headers(self, session: S) -> dict[str, str]:
        """Headers that carry the session on a data request."""

    def login(self) -> S:
        """Log in now (replacing any session), unless this client was already refused."""
        if self._refused is not None:
            refused = self._refused
            raise type(refused)(refused.message, portal=refused.portal, code=refused.code)
        self._session = None
        try:
            session = self._login()
        except InvalidCredentials as exc:
            self._refused = exc
            raise
        except SessionExpired as exc:
            # The login's own fresh token was refused (TRACES pre-auth 401): not a credential
            # problem, and logging in again at once would meet the same; retry the item later.
            raise PortalTransient(
                f"{portal_name(self.portal, capital=True)} refused the session it had just "
                f"issued for TAN {self.tan}; the item will be retried later",
                portal=self.portal,
                code=ErrorCode.SESSION_EXPIRED,
            ) from exc
        self._session = session
        log.info("%s login succeeded for TAN %s", self.portal, self.tan)
        return session

    def get_json(
        self, path: str, *, what: str, params: Mapping[str, str | int] | None = None
    ) -> Any:
        return self._call("GET", path, what=what, params=params).body

    def post_json(
        self, path: str, *, what: str, body: Mapping[str, Any], on_error: ErrorHook | None = None
    ) -> Any:
        return self._call("POST", path, what=what, json_body=body, on_error=on_error).body

    def paginate(
        self, path: str, *, module: str, what: str, params: Mapping[str, str | int] | None = None
    ) -> Iterator[Fields]:
        """Every row of a paginated grid, one authenticated request per page."""

        def fetch(page_no: int) -> Any:
            page_params = {**(params or {}), "pageNo": page_no, "pageSize": PAGE_SIZE}
            return self.get_json(path, what=f"{what} (page {page_no})", params=page_params)

        return walk_pages(fetch, portal=self.portal, module=module)

    def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> Reply:
        session = self._session or self.login()
        try:
            return self._send(session, method, path, what=what, **kwargs)
        except SessionExpired:
            log.info(
                "%s session of TAN %s expired at %s; logging in again", self.portal, self.tan, what
            )
        session = self._renewed(session)
        try:
            return self._send(session, method, path, what=what, **kwargs)
        except SessionExpired as exc:
            self._session = None
            raise self._expired_twice(what) from exc

    def _renewed(self, expired: S) -> S:
        """The session to repeat a call on: the ``relogin`` hook's, or a login of our own."""
        if self.relogin is None:
            return self.login()
        self._session = None
        session = self.relogin(expired)
        self._session = session
        return session

    def _send(self, session: S, method: str, path: str, *, what: str, **kwargs: Any) -> Reply:
        return self._http.request(
            method, path, what=what, headers=self._auth_headers(session), **kwargs
        )

    def _expired_twice(self, what: str) -> PortalTransient:
        return PortalTransient(
            f"the {portal_name(self.portal)} session expired again right after a fresh login "
            f"(at {what}); the item will be retried later",
            portal=self.portal,
            code=ErrorCode.SESSION_EXPIRED,
        )


# What a module part's fetch takes: any portal's client (the registry pairs them).
AnyPortalClient = PortalClient[Any]
