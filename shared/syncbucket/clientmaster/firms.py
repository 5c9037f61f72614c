"""Firms: create one (with its first API token), list them, pick the one a command means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.errors import (
    FirmAmbiguousError,
    FirmExistsError,
    FirmNotFoundError,
    InvalidFirmNameError,
)
from syncbucket.db.api_tokens import issue_token
from syncbucket.db.clients import Client
from syncbucket.db.firms import ApiToken, Firm

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class FirmSummary:
    id: int
    name: str
    created_at: datetime
    clients: int
    live_tokens: int


def clean_firm_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidFirmNameError("a firm needs a name")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidFirmNameError(f"a firm name has at most {MAX_NAME_LENGTH} characters")
    return cleaned


def find_firm(session: Session, name: str) -> Firm | None:
    return session.scalars(sa.select(Firm).where(Firm.name == clean_firm_name(name))).first()


def create_firm(session: Session, name: str) -> tuple[Firm, str]:
    """Create a firm and its first API token; the plaintext token is returned only here."""
    cleaned = clean_firm_name(name)
    if find_firm(session, cleaned) is not None:
        raise FirmExistsError(f"a firm named {cleaned!r} already exists")
    firm = Firm(name=cleaned)
    session.add(firm)
    session.flush()
    return firm, issue_token(session, firm)


def get_or_create_firm(session: Session, name: str) -> tuple[Firm, str | None]:
    """The firm named ``name``; created (with a token, returned) when missing."""
    firm = find_firm(session, name)
    if firm is not None:
        return firm, None
    return create_firm(session, name)


def firm_names(session: Session) -> list[str]:
    return list(session.scalars(sa.select(Firm.name).order_by(Firm.name)))


def resolve_firm(session: Session, name: str | None) -> Firm:
    """The firm a command is about: the one named, or the only one when none is named."""
    if name is not None:
        firm = find_firm(session, name)
        if firm is None:
            raise FirmNotFoundError(f"no firm named {name.strip()!r}; {_known(session)}")
        return firm
    firms = list(session.scalars(sa.select(Firm).order_by(Firm.name).limit(2)))
    if len(firms) == 1:
        return firms[0]
    if not firms:
        raise FirmNotFoundError(_known(session))
    raise FirmAmbiguousError(f"several firms exist ({_known(session)}): choose one")


def _known(session: Session) -> str:
    names = firm_names(session)
    if not names:
        return "no firm exists yet (create one with `syncbucket firms create NAME`)"
    return "firms: " + ", ".join(repr(n) for n in names)


def list_firms(session: Session) -> list[FirmSummary]:
    clients = sa.select(sa.func.count(Client.id)).where(Client.firm_id == Firm.id).scalar_subquery()
    tokens = (
        sa.select(sa.func.count(ApiToken.id))
        .where(ApiToken.firm_id == Firm.id, ApiToken.revoked_at.is_(None))
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(Firm.id, Firm.name, Firm.created_at, clients, tokens).order_by(Firm.name)
    )
    return [FirmSummary(*row) for row in rows]
