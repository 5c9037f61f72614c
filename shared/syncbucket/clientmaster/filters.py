"""The Client Master's filters: one definition for the pages, the API, runs and events.

A :class:`ClientFilter` becomes ONE SQL condition on ``clients`` (correlated EXISTS on
the read models of :mod:`syncbucket.db.client_state`), so "Select All" of a filter starts
a run over exactly the clients the list shows, without a client id ever travelling.

- ``search``: part of the name, or the start of the TAN or PAN (case-insensitive);
- ``active``: only active / only inactive clients;
- ``credentials``: ``ok`` (every portal's login worked last time), ``problem`` (any portal
  rejected, locked or missing), or one state on any portal: ``rejected``, ``locked``,
  ``missing`` (no credentials stored), ``unchecked`` (stored, never judged by a login);
- ``failed_last_time``: the last attempt of some module (or of ``module``) failed;
- ``not_synced_days``: no successful sync of any module (or of ``module``) in N days,
  never-synced clients included;
- ``never_synced``: no module (or ``module``) ever synced successfully.

A module synced when EVERY one of its portal parts did (``notices_orders`` has two), as of
the oldest of those successes: the same rule as the directory's ``ModuleSyncState``, so a
client the list shows as "never synced" is one the "never synced" filter finds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from syncbucket.db.client_state import ClientLoginState, ClientModuleSync
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.domain.portals import MODULE_TITLES, ModuleKey, Portal

MAX_SEARCH_LENGTH = 100
MAX_DAYS = 3650


class InvalidFilter(ValueError):
    """A filter value that cannot be understood; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CredentialFilter(StrEnum):
    OK = "ok"
    PROBLEM = "problem"
    REJECTED = "rejected"
    LOCKED = "locked"
    MISSING = "missing"
    UNCHECKED = "unchecked"


CREDENTIAL_WORDS = {
    CredentialFilter.OK: "credentials working",
    CredentialFilter.PROBLEM: "credentials need attention",
    CredentialFilter.REJECTED: "a login was rejected",
    CredentialFilter.LOCKED: "an account is locked",
    CredentialFilter.MISSING: "credentials missing",
    CredentialFilter.UNCHECKED: "credentials not checked yet",
}


@dataclass(frozen=True)
class ClientFilter:
    search: str | None = None
    active: bool | None = None
    credentials: CredentialFilter | None = None
    failed_last_time: bool = False
    not_synced_days: int | None = None
    never_synced: bool = False
    module: ModuleKey | None = None

    def is_empty(self) -> bool:
        return self == ClientFilter()

    def describe(self) -> str:
        """Words for a person: ``active clients, failed last time (Verify LDC)``."""
        parts: list[str] = []
        if self.active is not None:
            parts.append("active" if self.active else "inactive")
        if self.search:
            parts.append(f"matching “{self.search}”")
        if self.credentials is not None:
            parts.append(CREDENTIAL_WORDS[self.credentials])
        scope = f" ({MODULE_TITLES[self.module]})" if self.module else ""
        if self.failed_last_time:
            parts.append(f"failed last time{scope}")
        if self.not_synced_days is not None:
            parts.append(f"not synced for {self.not_synced_days} days{scope}")
        if self.never_synced:
            parts.append(f"never synced{scope}")
        return ", ".join(parts) if parts else "all clients"

    def to_dict(self) -> dict[str, Any]:
        """Only the fields set, JSON-ready (a run's ``selection``, an event's data)."""
        body: dict[str, Any] = {}
        if self.search:
            body["search"] = self.search
        if self.active is not None:
            body["active"] = self.active
        if self.credentials is not None:
            body["credentials"] = self.credentials.value
        if self.failed_last_time:
            body["failed_last_time"] = True
        if self.not_synced_days is not None:
            body["not_synced_days"] = self.not_synced_days
        if self.never_synced:
            body["never_synced"] = True
        if self.module is not None:
            body["module"] = self.module.value
        return body

    def as_query(self) -> dict[str, str]:
        """The filter as the pages' query parameters (see :func:`parse_filter`)."""
        return {
            key: ("1" if value is True else "0" if value is False else str(value))
            for key, value in self.to_dict().items()
        }


def parse_filter(values: Mapping[str, Any]) -> ClientFilter:
    """A filter from query parameters or JSON; :class:`InvalidFilter` names a bad field.

    Empty strings mean "not set", so a form can send every field.
    """
    unknown = sorted(set(values) - set(ClientFilter.__dataclass_fields__))
    if unknown:
        raise InvalidFilter(unknown[0], f"unknown filter; known: {_known_fields()}")
    return ClientFilter(
        search=_search(values.get("search")),
        active=_flag(values, "active", optional=True),
        credentials=_credentials(values.get("credentials")),
        failed_last_time=bool(_flag(values, "failed_last_time")),
        not_synced_days=_days(values.get("not_synced_days")),
        never_synced=bool(_flag(values, "never_synced")),
        module=_module(values.get("module")),
    )


def _known_fields() -> str:
    return ", ".join(ClientFilter.__dataclass_fields__)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _search(value: Any) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str):
        raise InvalidFilter("search", "expected text")
    text = " ".join(value.split())
    if len(text) > MAX_SEARCH_LENGTH:
        raise InvalidFilter("search", f"at most {MAX_SEARCH_LENGTH} characters")
    return text


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(values: Mapping[str, Any], field: str, *, optional: bool = False) -> bool | None:
    value = values.get(field)
    if _blank(value) or value == "any":
        return None if optional else False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidFilter(field, f"expected yes or no, got {value!r}")


def _credentials(value: Any) -> CredentialFilter | None:
    if _blank(value) or value == "any":
        return None
    try:
        return CredentialFilter(str(value).strip().lower())
    except ValueError:
        known = ", ".join(state.value for state in CredentialFilter)
        raise InvalidFilter("credentials", f"expected one of {known}, got {value!r}") from None


def _days(value: Any) -> int | None:
    if _blank(value):
        return None
    try:
        days = int(str(value).strip())
    except ValueError:
        raise InvalidFilter(
            "not_synced_days", f"expected a number of days, got {value!r}"
        ) from None
    if not 1 <= days <= MAX_DAYS:
        raise InvalidFilter("not_synced_days", f"expected 1 to {MAX_DAYS} days, got {days}")
    return days


def _module(value: Any) -> ModuleKey | None:
    if _blank(value) or value == "any":
        return None
    try:
        return ModuleKey(str(value).strip())
    except ValueError:
        known = ", ".join(key.value for key in ModuleKey)
        raise InvalidFilter("module", f"unknown module {value!r}; known: {known}") from None


def filter_condition(chosen: ClientFilter, now: datetime) -> sa.ColumnElement[bool]:
    """The filter as one condition on ``clients`` (the caller adds the firm)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if chosen.search:
        conditions.append(_matches(chosen.search))
    if chosen.active is not None:
        conditions.append(Client.active.is_(chosen.active))
    if chosen.credentials is not None:
        conditions.append(_credential_condition(chosen.credentials))
    if chosen.failed_last_time:
        conditions.append(_module_sync(chosen.module, ClientModuleSync.failed.is_(True)))
    if chosen.not_synced_days is not None:
        since = now - timedelta(days=chosen.not_synced_days)
        conditions.append(~_module_sync(chosen.module, ClientModuleSync.synced_at >= since))
    if chosen.never_synced:
        conditions.append(~_module_sync(chosen.module, ClientModuleSync.synced_at.is_not(None)))
    return sa.and_(sa.true(), *conditions)


def _matches(text: str) -> sa.ColumnElement[bool]:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    upper = escaped.upper()
    return sa.or_(
        Client.name.ilike(f"%{escaped}%", escape="\\"),
        Client.tan.like(f"{upper}%", escape="\\"),
        Client.pan.like(f"{upper}%", escape="\\"),
    )


def _module_sync(
    module: ModuleKey | None, condition: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """Some module of the client (or ``module``) meets ``condition`` (``client_module_sync``:
    one row per module, a two-portal module synced only when both parts are)."""
    modules = [module] if module is not None else list(ModuleKey)
    return (
        sa.select(ClientModuleSync.client_id)
        .where(
            ClientModuleSync.client_id == Client.id,
            ClientModuleSync.module.in_([m.value for m in modules]),
            condition,
        )
        .exists()
    )


def _has_credentials(portal: Portal) -> sa.ColumnElement[bool]:
    return (
        sa.select(ClientCredential.id)
        .where(ClientCredential.client_id == Client.id, ClientCredential.portal == portal.value)
        .exists()
    )


def _login(portal: Portal, *states: str) -> sa.ColumnElement[bool]:
    return (
        sa.select(ClientLoginState.client_id)
        .where(
            ClientLoginState.client_id == Client.id,
            ClientLoginState.portal == portal.value,
            ClientLoginState.state.in_(states),
        )
        .exists()
    )


def _any_login_state(*states: str) -> sa.ColumnElement[bool]:
    return (
        sa.select(ClientLoginState.client_id)
        .where(ClientLoginState.client_id == Client.id, ClientLoginState.state.in_(states))
        .exists()
    )


def _unchecked(portal: Portal) -> sa.ColumnElement[bool]:
    judged = (
        sa.select(ClientLoginState.client_id)
        .where(ClientLoginState.client_id == Client.id, ClientLoginState.portal == portal.value)
        .exists()
    )
    return sa.and_(_has_credentials(portal), ~judged)


def _credential_condition(state: CredentialFilter) -> sa.ColumnElement[bool]:
    portals = list(Portal)
    missing = sa.or_(*(~_has_credentials(portal) for portal in portals))
    if state == CredentialFilter.OK:
        return sa.and_(*(_login(portal, "ok") for portal in portals))
    if state == CredentialFilter.MISSING:
        return missing
    if state == CredentialFilter.UNCHECKED:
        return sa.or_(*(_unchecked(portal) for portal in portals))
    if state == CredentialFilter.PROBLEM:
        return sa.or_(missing, _any_login_state("rejected", "locked"))
    return _any_login_state(state.value)
