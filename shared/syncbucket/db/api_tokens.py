"""Firm API tokens: ``sbk_<random>``, shown once, stored as a SHA-256 hex digest.

A token carries 256 bits of randomness, so an unsalted fast hash is the right tool (as
for GitHub's tokens): lookup is by the hash's unique index, then a constant-time compare.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.base import utcnow
from syncbucket.db.firms import ApiToken, Firm

TOKEN_PREFIX = "sbk_"  # noqa: S105 - the format marker, not a secret
DISPLAY_PREFIX_LENGTH = 8


def generate_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue_token(
    session: Session, firm: Firm, *, label: str | None = None, created_by: str | None = None
) -> str:
    """Store a new token for ``firm`` and return its plaintext: the only time it exists."""
    plaintext = generate_token()
    session.add(
        ApiToken(
            firm_id=firm.id,
            token_hash=hash_token(plaintext),
            token_prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
            label=label,
            created_by=created_by,
        )
    )
    session.flush()
    return plaintext


def list_tokens(session: Session, firm_id: int) -> list[ApiToken]:
    """The firm's tokens, newest first: prefix, label, who made it, revoked or live."""
    query = sa.select(ApiToken).where(ApiToken.firm_id == firm_id).order_by(ApiToken.id.desc())
    return list(session.scalars(query))


def revoke_token_id(session: Session, firm_id: int, token_id: int) -> bool:
    """Revoke the firm's token ``token_id``; ``False`` if no such live token of the firm."""
    result = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.firm_id == firm_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def find_firm_by_token(session: Session, plaintext: str) -> Firm | None:
    """The firm owning an unrevoked token, or ``None`` (unknown, revoked or malformed)."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(plaintext)
    row = session.execute(
        sa.select(ApiToken.token_hash, Firm)
        .join(Firm, Firm.id == ApiToken.firm_id)
        .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(row[0], digest):
        return None
    return row[1]


def revoke_token(session: Session, plaintext: str) -> bool:
    """Revoke a token; ``True`` if it existed and was live."""
    result = session.execute(
        sa.update(ApiToken)
        .where(ApiToken.token_hash == hash_token(plaintext), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
