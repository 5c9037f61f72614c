"""Tables ``clients`` (a firm's deductors) and ``client_credentials`` (encrypted, per portal).

``client_credentials.secret`` is a :class:`syncbucket.crypto.CredentialCipher` token that
holds both the user id and the password; nothing about a credential is stored in clear.
``clients.demo_note`` marks demo clients seeded with deliberately wrong credentials.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from syncbucket.db.base import Base, utcnow


class Client(Base):
    __tablename__ = "clients"
    __table_args__ = (sa.UniqueConstraint("firm_id", "tan", name="uq_clients_firm_id_tan"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    tan: Mapped[str] = mapped_column(sa.String(10))
    pan: Mapped[str] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    demo_note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )

    credentials: Mapped[list[ClientCredential]] = relationship(
        back_populates="client", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"Client(id={self.id!r}, tan={self.tan!r})"


class ClientCredential(Base):
    __tablename__ = "client_credentials"
    __table_args__ = (
        sa.UniqueConstraint("client_id", "portal", name="uq_client_credentials_client_id_portal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("clients.id", ondelete="CASCADE"))
    portal: Mapped[str] = mapped_column(sa.String(16))
    secret: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )

    client: Mapped[Client] = relationship(back_populates="credentials")

    def __repr__(self) -> str:  # never the secret
        return f"ClientCredential(client_id={self.client_id!r}, portal={self.portal!r})"
