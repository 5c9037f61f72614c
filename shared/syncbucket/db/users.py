"""Tables for the web app's people: ``users``, their ``web_sessions``, ``signin_failures``.

A user belongs to exactly one firm and signs in by e-mail (unique across firms). Only an
argon2 hash of the password is stored; a session is stored as the SHA-256 of its cookie
value, like an API token, so a database dump signs nobody in. ``signin_failures`` counts
recent failed sign-ins per account and per client address for the throttle
(:mod:`syncbucket.accounts.signin`).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base, str_enum, utcnow
from syncbucket.domain.roles import Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (sa.Index("ix_users_firm_id", "firm_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "user_role"))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    # Set for a generated (one-time) password: the first sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    disabled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=sa.func.now())
    password_changed_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=sa.func.now()
    )
    last_signin_at: Mapped[datetime | None]

    def __repr__(self) -> str:  # never the hash
        return f"User(id={self.id!r}, email={self.email!r}, role={self.role!r})"


class WebSession(Base):
    __tablename__ = "web_sessions"
    __table_args__ = (sa.Index("ix_web_sessions_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    # Bound to the session: a form must echo it (CSRF); never derivable from the cookie.
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"WebSession(id={self.id!r}, user_id={self.user_id!r})"


class SigninFailure(Base):
    __tablename__ = "signin_failures"

    # "account:<email>" or "address:<ip>"; an unknown e-mail is counted like a known one.
    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    first_failure_at: Mapped[datetime]
    last_failure_at: Mapped[datetime]
