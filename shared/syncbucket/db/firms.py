"""Tables ``firms`` (the tenants) and ``api_tokens`` (stored as SHA-256 hashes only)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, utcnow


class Firm(Base):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())

    def __repr__(self) -> str:
        return f"Firm(id={self.id!r}, name={self.name!r})"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(sa.String(8))
    # What the token is for and who made it, for the admin page (migration 0005).
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_by: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    revoked_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"ApiToken(id={self.id!r}, firm_id={self.firm_id!r}, prefix={self.token_prefix!r})"
