"""Table ``leases``: named leader leases with a fencing token.

One row per duty group (e.g. ``coordinator``). A process holds the lease while
``holder`` is its identity and ``expires_at`` (database time) is in the future; every
acquisition by a new holder increments ``fencing_token``, so work stamped with an older
token can be told apart from the current leader's.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base


class Lease(Base):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(200))
    fencing_token: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    acquired_at: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"Lease(name={self.name!r}, holder={self.holder!r}, token={self.fencing_token!r})"
