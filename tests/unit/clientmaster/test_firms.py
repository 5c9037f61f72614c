from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.clientmaster.errors import (
    FirmAmbiguousError,
    FirmExistsError,
    FirmNotFoundError,
    InvalidFirmNameError,
)
from syncbucket.clientmaster.firms import create_firm, get_or_create_firm, list_firms, resolve_firm
from syncbucket.db.api_tokens import find_firm_by_token
from syncbucket.db.firms import ApiToken


def test_create_returns_a_working_token_stored_only_hashed(session: Session) -> None:
    firm, token = create_firm(session, "  Acme   &  Co ")
    assert firm.name == "Acme & Co"
    assert find_firm_by_token(session, token) == firm
    assert token not in set(session.scalars(sa.select(ApiToken.token_hash)))


def test_names_are_unique_and_required(session: Session) -> None:
    create_firm(session, "Acme")
    with pytest.raises(FirmExistsError):
        create_firm(session, "Acme")
    with pytest.raises(InvalidFirmNameError):
        create_firm(session, "   ")
    with pytest.raises(InvalidFirmNameError):
        create_firm(session, "x" * 201)


def test_get_or_create(session: Session) -> None:
    firm, token = get_or_create_firm(session, "Demo Firm")
    assert token is not None
    again, no_token = get_or_create_firm(session, "Demo Firm")
    assert again.id == firm.id and no_token is None


def test_resolve_firm(session: Session) -> None:
    with pytest.raises(FirmNotFoundError, match="no firm exists yet"):
        resolve_firm(session, None)
    acme, _ = create_firm(session, "Acme")
    assert resolve_firm(session, None) == acme  # the only one
    bharat, _ = create_firm(session, "Bharat")
    with pytest.raises(FirmAmbiguousError, match="'Acme', 'Bharat'"):
        resolve_firm(session, None)
    assert resolve_firm(session, " Bharat ") == bharat
    with pytest.raises(FirmNotFoundError, match="no firm named 'Zed'; firms: 'Acme', 'Bharat'"):
        resolve_firm(session, "Zed")


def test_list_firms_counts(session: Session) -> None:
    create_firm(session, "Acme")
    summaries = list_firms(session)
    assert [(f.name, f.clients, f.live_tokens) for f in summaries] == [("Acme", 0, 1)]
