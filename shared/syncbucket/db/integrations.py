"""Table ``integration_secrets``: the per-firm secrets that sign upstream sync requests.

The secret itself is needed to check an HMAC, so it is stored encrypted with
``SYNCBUCKET_SECRET_KEY`` (as client credentials are), never hashed. A rotation keeps the
previous secret valid until its ``expires_at`` (the grace period) so an upstream system
can switch over without a gap; ``revoked_at`` ends a secret at once.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, utcnow


class IntegrationSecret(Base):
    __tablename__ = "integration_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    secret_encrypted: Mapped[str] = mapped_column(sa.Text)
    secret_prefix: Mapped[str] = mapped_column(sa.String(12))  # shown in listings
    created_by: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    expires_at: Mapped[datetime | None]  # None: the current secret; set when rotated away
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"IntegrationSecret(id={self.id!r}, firm_id={self.firm_id!r})"
