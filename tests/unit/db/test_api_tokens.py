from __future__ import annotations

import hashlib

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.api_tokens import (
    find_firm_by_token,
    generate_token,
    hash_token,
    issue_token,
    revoke_token,
)
from syncbucket.db.firms import ApiToken, Firm


def test_token_format_and_hash() -> None:
    token = generate_token()
    assert token.startswith("sbk_") and len(token) > 40
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert generate_token() != token


def test_only_the_hash_and_a_display_prefix_are_stored(session: Session, firm: Firm) -> None:
    token = issue_token(session, firm)
    stored = session.scalars(sa.select(ApiToken).where(ApiToken.firm_id == firm.id)).one()
    assert stored.token_hash == hash_token(token)
    assert stored.token_prefix == token[:8] and stored.token_prefix.startswith("sbk_")
    row = session.execute(sa.select(ApiToken.__table__)).one()
    assert token not in [str(value) for value in row]
    assert token not in repr(stored)


def test_lookup_by_plaintext(session: Session, firm: Firm) -> None:
    other = Firm(name="Other")
    session.add(other)
    session.flush()
    token, other_token = issue_token(session, firm), issue_token(session, other)
    assert find_firm_by_token(session, token) == firm
    assert find_firm_by_token(session, other_token) == other
    assert find_firm_by_token(session, token + "x") is None
    assert find_firm_by_token(session, "sbk_unknown") is None
    assert find_firm_by_token(session, hash_token(token)) is None  # the hash is not a token


def test_revoked_token_no_longer_finds_its_firm(session: Session, firm: Firm) -> None:
    token, second = issue_token(session, firm), issue_token(session, firm)
    assert revoke_token(session, token) is True
    assert revoke_token(session, token) is False
    assert find_firm_by_token(session, token) is None
    assert find_firm_by_token(session, second) == firm
