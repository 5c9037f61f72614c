"""The body of ``PATCH /clients/{id}``: its shape checked here, its values by the library.

Pydantic refuses a wrong type or an unknown field (422 naming it, as for runs); whether
the name, the PAN and the logins are acceptable is
:func:`syncbucket.clientmaster.editing.edit_client`'s call, so the API, the CLI and the
web app's edit form refuse the same values with the same words (docs/api.md).
Passwords are :class:`~pydantic.SecretStr`: never in a ``repr``, a log line or a response.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from syncbucket.clientmaster.patching import ClientPatch, PortalLogin
from syncbucket.domain.portals import Portal


class PortalLoginIn(BaseModel):
    """A portal's user id and password: both, or neither (send ``null`` to remove)."""

    model_config = ConfigDict(extra="forbid")

    user: str = Field(examples=["DELA00001A"])
    password: SecretStr = Field(description="write-only: never returned")


class EditClientRequest(BaseModel):
    """The fields to change; anything absent (or ``null``) keeps its value.

    The TAN is the client's identity in the firm (the CSV import matches on it): it
    cannot be changed. Under ``credentials`` a portal mapped to a login replaces that
    portal's stored login (and forgets what the portal said of the old one); mapped to
    ``null`` it removes it; a portal left out keeps its login.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"active": False},
                {"name": "Acme Traders Pvt Ltd", "pan": "AAACA1234F"},
                {"credentials": {"traces": {"user": "DELA00001A", "password": "s3cret!"}}},
                {"active": True, "credentials": {"itportal": None}},
            ]
        },
    )

    name: str | None = Field(default=None, examples=["Acme Traders Pvt Ltd"])
    pan: str | None = Field(default=None, examples=["AAACA1234F"])
    active: bool | None = Field(
        default=None, description="false: left out of new runs and schedules, kept on record"
    )
    credentials: dict[Portal, PortalLoginIn | None] | None = Field(
        default=None,
        description="portal -> {user, password} to set, or null to remove (write-only)",
    )

    def patch(self) -> ClientPatch:
        given = self.credentials or {}
        return ClientPatch(
            name=self.name,
            pan=self.pan,
            active=self.active,
            set_credentials={
                portal: PortalLogin(login.user, login.password.get_secret_value())
                for portal, login in given.items()
                if login is not None
            },
            remove_credentials=frozenset(p for p, login in given.items() if login is None),
        )
