"""The TRACES client: captcha + login + pre-auth, then data pages on the JSESSIONID cookie.

Login (docs/portal-simulator.md): ``GET generateCaptcha`` → solve → ``POST login`` →
access token → ``GET preAuth`` with the bearer token → ``JSESSIONID`` cookie, which every
data page needs. A rejected captcha is retried with a fresh one (it costs no lockout
attempt); a rejected password is never retried: 5 failures lock the account for an hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx

from syncbucket.config import Settings
from syncbucket.crypto import PortalCredentials
from syncbucket.domain.portals import Portal
from syncbucket.portals.base import PortalClient, SerialisableSession
from syncbucket.portals.boundary import error_code_of
from syncbucket.portals.errors import (
    AccountLocked,
    ErrorCode,
    InvalidCredentials,
    PortalPermanent,
    PortalTransient,
)
from syncbucket.portals.fields import Fields
from syncbucket.portals.http import PortalTimeouts
from syncbucket.portals.traces.captcha import (
    CaptchaSolver,
    CaptchaUnsolvable,
    SimulatorCaptchaSolver,
)

CAPTCHA_PATH = "/app/srv/auth/generateCaptcha"
LOGIN_PATH = "/app/srv/auth/login"
PRE_AUTH_PATH = "/app/srv/auth/preAuth"
# Captcha misreads are normal for OCR solvers; three fresh captchas bound the cost.
CAPTCHA_ATTEMPTS = 3


@dataclass(frozen=True)
class TracesSession(SerialisableSession):
    """What a TRACES login yields; tokens and cookie are kept out of repr."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    jsessionid: str = field(repr=False)
    obtained_at: datetime


class _CaptchaRejected(Exception):
    """TRACES said INVALID_CAPTCHA: try again with a fresh captcha."""


class TracesClient(PortalClient[TracesSession]):
    portal = Portal.TRACES

    def __init__(
        self,
        *,
        base_url: str,
        credentials: PortalCredentials,
        tan: str,
        transport: httpx.BaseTransport | None = None,
        timeouts: PortalTimeouts | None = None,
        captcha_solver: CaptchaSolver | None = None,
    ) -> None:
        super().__init__(
            base_url=base_url,
            credentials=credentials,
            tan=tan,
            transport=transport,
            timeouts=timeouts,
        )
        # The simulator's solver by default; a real deployment passes its own.
        self._solver: CaptchaSolver = captcha_solver or SimulatorCaptchaSolver()

    @classmethod
    def from_settings(
        cls,
        *,
        settings: Settings,
        credentials: PortalCredentials,
        tan: str,
        transport: httpx.BaseTransport | None = None,
        captcha_solver: CaptchaSolver | None = None,
    ) -> TracesClient:
        return cls(
            base_url=settings.traces_base_url,
            credentials=credentials,
            tan=tan,
            transport=transport,
            timeouts=PortalTimeouts.from_settings(settings),
            captcha_solver=captcha_solver,
        )

    def _auth_headers(self, session: TracesSession) -> dict[str, str]:
        return {"Cookie": f"JSESSIONID={session.jsessionid}"}

    def _login(self) -> TracesSession:
        tokens = self._login_with_captcha()
        access_token = tokens.text("accessToken")
        return TracesSession(
            access_token=access_token,
            refresh_token=tokens.opt_text("refreshToken") or "",
            jsessionid=self._pre_auth(access_token),
            obtained_at=datetime.now(UTC),
        )

    def _login_with_captcha(self) -> Fields:
        for _ in range(CAPTCHA_ATTEMPTS):
            captcha = self._fields(
                self._http.request("GET", CAPTCHA_PATH, what="the login captcha").body
            )
            try:
                answer = self._solver.solve(captcha.text("image"))
            except CaptchaUnsolvable:
                continue
            body = {
                "userId": self._credentials.user_id,
                "password": self._credentials.password,
                "captcha": answer,
                "captchaId": captcha.text("id"),
                "userType": "Deductor",
            }
            try:
                reply = self._http.request(
                    "POST", LOGIN_PATH, what="login", json_body=body, on_error=self._refused_login
                )
            except _CaptchaRejected:
                continue
            return self._fields(reply.body)
        raise PortalTransient(
            f"TRACES rejected the solved captcha {CAPTCHA_ATTEMPTS} times for TAN {self.tan}; "
            "the captcha solver may need attention; the item will be retried",
            portal=self.portal,
            code=ErrorCode.CAPTCHA_REJECTED,
        )

    def _refused_login(self, status: int, body: Any) -> None:
        code = error_code_of(body)
        if status == 400 and code == "INVALID_CAPTCHA":
            raise _CaptchaRejected
        if status == 403 and code is not None and "LOCKED" in code:
            self._raise_locked()
        if status == 401:
            # Any 401 at login counts against the account: never try again in this run.
            left = body.get("attemptsLeft") if isinstance(body, dict) else None
            hint = (
                f" ({left} attempts left before TRACES locks it)" if isinstance(left, int) else ""
            )
            raise InvalidCredentials(
                f"TRACES rejected the user id or password for TAN {self.tan}{hint}: correct the "
                "TRACES credentials in the client master; no further logins will be tried in "
                "this run",
                portal=self.portal,
            )

    def _raise_locked(self) -> NoReturn:
        raise AccountLocked(
            f"TRACES has locked the account of TAN {self.tan} after repeated failed logins "
            "(for about an hour): check the TRACES credentials in the client master and sync "
            "again after the lock expires; no further logins will be tried in this run",
            portal=self.portal,
        )

    def _pre_auth(self, access_token: str) -> str:
        reply = self._http.request(
            "GET",
            PRE_AUTH_PATH,
            what="pre-authentication",
            headers={"Authorization": f"Bearer {access_token}"},
        )
        jsessionid = reply.cookies.get("JSESSIONID")
        if not jsessionid:
            raise PortalPermanent(
                "TRACES pre-authentication did not issue a session cookie (JSESSIONID); "
                "the portal may have changed its login",
                portal=self.portal,
                code=ErrorCode.UNEXPECTED_RESPONSE,
            )
        return jsessionid

    def _fields(self, body: Any) -> Fields:
        return Fields(body, portal=self.portal, module="login", where="the login answer")
