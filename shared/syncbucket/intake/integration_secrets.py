"""A firm's integration secrets: what an upstream system signs its sync requests with.

``sbi_<random>`` (256 bits), shown once when issued. Unlike an API token it cannot be
stored as a hash -- checking an HMAC needs the key -- so it is stored encrypted with
``SYNCBUCKET_SECRET_KEY``, like client credentials. Issuing a new one rotates: the
previous current secret stays valid for the grace period (``expires_at``), so the
upstream system can switch without a refused request; :func:`revoke_all` ends every
secret of the firm at once (a leaked secret).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.crypto import CredentialCipher, DecryptionFailed
from syncbucket.db.integrations import IntegrationSecret

SECRET_PREFIX = "sbi_"  # noqa: S105 - the format marker, not a secret
DISPLAY_PREFIX_LENGTH = 8
#: A firm has at most this many secrets live at once (current + those in their grace).
MAX_LIVE = 3


@dataclass(frozen=True)
class SecretInfo:
    id: int
    prefix: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def live(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


def issue(
    session: Session,
    cipher: CredentialCipher,
    firm_id: int,
    now: datetime,
    *,
    grace: timedelta,
    created_by: str | None = None,
) -> str:
    """A new current secret for the firm (plaintext returned once); the old current one
    stays valid for ``grace``, older ones in their grace keep their own end."""
    session.execute(
        sa.update(IntegrationSecret)
        .where(
            IntegrationSecret.firm_id == firm_id,
            IntegrationSecret.expires_at.is_(None),
            IntegrationSecret.revoked_at.is_(None),
        )
        .values(expires_at=now + grace),
        execution_options={"synchronize_session": False},
    )
    plaintext = SECRET_PREFIX + secrets.token_urlsafe(32)
    session.add(
        IntegrationSecret(
            firm_id=firm_id,
            secret_encrypted=cipher.encrypt_bytes(plaintext.encode("utf-8")).decode("ascii"),
            secret_prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
            created_by=created_by,
            created_at=now,
        )
    )
    session.flush()
    _retire_surplus(session, firm_id, now)
    return plaintext


def _retire_surplus(session: Session, firm_id: int, now: datetime) -> None:
    """Beyond MAX_LIVE live secrets the oldest are revoked: rotating in a loop must not
    leave a trail of valid keys."""
    live = [info for info in list_secrets(session, firm_id) if info.live(now)]
    surplus = [info.id for info in live[MAX_LIVE:]]
    if surplus:
        session.execute(
            sa.update(IntegrationSecret)
            .where(IntegrationSecret.id.in_(surplus))
            .values(revoked_at=now),
            execution_options={"synchronize_session": False},
        )


def list_secrets(session: Session, firm_id: int) -> list[SecretInfo]:
    """The firm's secrets, newest first (prefixes only)."""
    rows = session.execute(
        sa.select(
            IntegrationSecret.id,
            IntegrationSecret.secret_prefix,
            IntegrationSecret.created_at,
            IntegrationSecret.created_by,
            IntegrationSecret.expires_at,
            IntegrationSecret.revoked_at,
        )
        .where(IntegrationSecret.firm_id == firm_id)
        .order_by(IntegrationSecret.id.desc())
    )
    return [SecretInfo(*row) for row in rows]


def revoke_all(session: Session, firm_id: int, now: datetime) -> int:
    """End every live secret of the firm now; returns how many were live."""
    result = session.execute(
        sa.update(IntegrationSecret)
        .where(IntegrationSecret.firm_id == firm_id, IntegrationSecret.revoked_at.is_(None))
        .where(sa.or_(IntegrationSecret.expires_at.is_(None), IntegrationSecret.expires_at > now))
        .values(revoked_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def live_secrets(
    session: Session, cipher: CredentialCipher, firm_id: int, now: datetime
) -> list[str]:
    """The plaintexts a request of ``firm_id`` may be signed with right now.

    A secret the configured key cannot decrypt (a lost SECRET_KEY) is skipped: requests
    signed with it are refused as unauthorised, never with the key error.
    """
    rows = session.scalars(
        sa.select(IntegrationSecret.secret_encrypted)
        .where(IntegrationSecret.firm_id == firm_id, IntegrationSecret.revoked_at.is_(None))
        .where(sa.or_(IntegrationSecret.expires_at.is_(None), IntegrationSecret.expires_at > now))
        .order_by(IntegrationSecret.id.desc())
        .limit(MAX_LIVE)
    )
    found: list[str] = []
    for encrypted in rows:
        try:
            found.append(cipher.decrypt_bytes(encrypted.encode("ascii")).decode("utf-8"))
        except DecryptionFailed:
            continue
    return found
