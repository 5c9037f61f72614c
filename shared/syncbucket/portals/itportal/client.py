"""The IT portal (e-filing) client: two-step login, then bearer-token data requests.

Login (docs/portal-simulator.md) is two posts to ``/iec/loginapi/login``: the first names
the entity (the TAN) and yields a ``reqId``; the second sends the password. Its refusals
keep the portal's shape ``{"messages": [{"code", "type", "desc"}]}``:

- ``EF00177`` a session is already active → repeat step 2 once with ``forceLogin: true``
  (the portal allows few live sessions per user; forcing ends an older one);
- ``EF00027`` invalid password → ``InvalidCredentials``, never retried;
- ``LOCKED`` / ``ACCOUNT_LOCKED`` → ``AccountLocked``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from syncbucket.config import Settings
from syncbucket.crypto import PortalCredentials
from syncbucket.domain.portals import Portal
from syncbucket.portals.base import PortalClient, SerialisableSession
from syncbucket.portals.errors import AccountLocked, ErrorCode, InvalidCredentials, PortalTransient
from syncbucket.portals.fields import Fields
from syncbucket.portals.http import PortalTimeouts

LOGIN_PATH = "/iec/loginapi/login"
ROLE = "TDS"  # a TAN logs in with the TDS role


@dataclass(frozen=True)
class ItPortalSession(SerialisableSession):
    """What an IT portal login yields; the token stays out of repr."""

    auth_token: str = field(repr=False)
    user_id: str = field(repr=False)
    obtained_at: datetime


class _SessionActive(Exception):
    """EF00177: the portal wants ``forceLogin: true``."""


class ItPortalClient(PortalClient[ItPortalSession]):
    portal = Portal.ITPORTAL

    @classmethod
    def from_settings(
        cls,
        *,
        settings: Settings,
        credentials: PortalCredentials,
        tan: str,
        transport: httpx.BaseTransport | None = None,
    ) -> ItPortalClient:
        return cls(
            base_url=settings.itportal_base_url,
            credentials=credentials,
            tan=tan,
            transport=transport,
            timeouts=PortalTimeouts.from_settings(settings),
        )

    def _auth_headers(self, session: ItPortalSession) -> dict[str, str]:
        return {"Authorization": f"Bearer {session.auth_token}"}

    def _login(self) -> ItPortalSession:
        req_id = self._post_login(
            {"entity": self._credentials.user_id, "serviceName": "wLoginService"},
            what="login (step 1)",
        ).text("reqId")
        try:
            answer = self._password_step(req_id, force=False)
        except _SessionActive:
            try:
                answer = self._password_step(req_id, force=True)
            except _SessionActive:
                raise PortalTransient(
                    f"the IT portal refused a new session for TAN {self.tan} even with forced "
                    "login (too many sessions are active); the item will be retried later",
                    portal=self.portal,
                    code=ErrorCode.SESSION_CONFLICT,
                ) from None
        return ItPortalSession(
            auth_token=answer.text("authToken"),
            user_id=answer.opt_text("userId") or self._credentials.user_id,
            obtained_at=datetime.now(UTC),
        )

    def _password_step(self, req_id: str, *, force: bool) -> Fields:
        body = {
            "entity": self._credentials.user_id,
            "serviceName": "loginService",
            "pass": self._credentials.password,
            "reqId": req_id,
            "role": ROLE,
            "forceLogin": force,
        }
        return self._post_login(body, what="login (step 2)")

    def _post_login(self, body: Mapping[str, Any], *, what: str) -> Fields:
        reply = self._http.request(
            "POST", LOGIN_PATH, what=what, json_body=body, on_error=self._refused_login
        )
        # The portal may also report a refusal inside a 200 answer's messages.
        self._refused_login(reply.status, reply.body)
        return Fields(reply.body, portal=self.portal, module="login", where="the login answer")

    def _refused_login(self, status: int, body: Any) -> None:
        codes = _error_codes(body)
        if "EF00177" in codes:
            raise _SessionActive
        if codes & {"LOCKED", "ACCOUNT_LOCKED"}:
            raise AccountLocked(
                f"the IT portal has locked the account of TAN {self.tan} after repeated failed "
                "logins: check the IT portal credentials in the client master and sync again "
                "after the lock expires; no further logins will be tried in this run",
                portal=self.portal,
            )
        if "EF00027" in codes or status == 401:
            # Any 401 at login counts against the account: never try again in this run.
            raise InvalidCredentials(
                f"the IT portal rejected the user id or password for TAN {self.tan}: correct "
                "the IT portal credentials in the client master; no further logins will be "
                "tried in this run",
                portal=self.portal,
            )


def _error_codes(body: Any) -> set[str]:
    """Codes of the ERROR messages in an IT portal answer (``messages[].code``)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("messages"), list):
        return set()
    return {
        str(message.get("code"))
        for message in body["messages"]
        if isinstance(message, Mapping) and message.get("type", "ERROR") == "ERROR"
    }
