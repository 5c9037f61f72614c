"""Bearer-token authentication: each request acts for the firm owning the token.

Tokens are the ones ``syncbucket firms create`` prints; only their hash is stored, and a
revoked token is refused like an unknown one. Failures are 401 with ``WWW-Authenticate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from syncbucket.db.api_tokens import DISPLAY_PREFIX_LENGTH as PREFIX
from syncbucket.db.api_tokens import find_firm_by_token
from syncbucket.db.session import unit_of_work
from syncbucket_coordinator.container import Coordinator
from syncbucket_coordinator.errors import ApiError

REALM = 'Bearer realm="syncbucket"'

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="firmToken",
    description="The firm's API token (`sbk_...`), as printed by `syncbucket firms create`.",
)


@dataclass(frozen=True)
class FirmIdentity:
    id: int
    name: str
    token_prefix: str

    @property
    def requested_by(self) -> str:
        """Who asked, for the run's audit trail: the token's display prefix, never the token."""
        return f"api:{self.token_prefix}"


def coordinator(request: Request) -> Coordinator:
    """The composition root this app was created with (see ``create_app``)."""
    found: Coordinator = request.app.state.coordinator
    return found


def current_firm(
    root: Annotated[Coordinator, Depends(coordinator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> FirmIdentity:
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(
            401,
            "unauthorized",
            "missing bearer token: send 'Authorization: Bearer <token>' "
            "with the token printed by `syncbucket firms create`",
            {"WWW-Authenticate": REALM},
        )
    token = credentials.credentials.strip()
    with unit_of_work(root.sessions) as session:
        firm = find_firm_by_token(session, token)
        identity = None if firm is None else FirmIdentity(firm.id, firm.name, token[:PREFIX])
    if identity is None:
        raise ApiError(
            401,
            "invalid_token",
            "the bearer token is unknown or revoked",
            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return identity


Firm = Annotated[FirmIdentity, Depends(current_firm)]
Root = Annotated[Coordinator, Depends(coordinator)]
