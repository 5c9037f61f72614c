"""Web sessions: a random cookie value, stored as its SHA-256; idle and absolute expiry.

``open_session`` returns the cookie value (the only time it exists in clear) and the
session's CSRF token, which every state-changing form must echo. ``resolve`` finds the
signed-in user for a cookie value, or ``None`` when the session is unknown, idle past
``idle``, older than ``absolute``, or its user is disabled; an expired session's row is
deleted on the way. ``last_seen_at`` is written at most once a minute, so reading pages
does not turn into one write per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.db.firms import Firm
from syncbucket.db.users import User, WebSession
from syncbucket.domain.roles import Role

TOUCH_EVERY = timedelta(minutes=1)
MAX_COOKIE_LENGTH = 200


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)


@dataclass(frozen=True)
class OpenedSession:
    cookie_value: str
    csrf_token: str


@dataclass(frozen=True)
class SignedInUser:
    """Who a request acts for; everything a page needs to scope and to authorise."""

    session_id: int
    user_id: int
    email: str
    role: Role
    firm_id: int
    firm_name: str
    csrf_token: str
    must_change_password: bool

    @property
    def requested_by(self) -> str:
        """Who started a run, for its history: the person's e-mail, never a secret."""
        return f"ui:{self.email}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, now: datetime) -> OpenedSession:
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=_digest(cookie),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return OpenedSession(cookie, csrf)


def resolve(
    session: Session,
    cookie_value: str,
    now: datetime,
    policy: SessionPolicy = SessionPolicy(),
    *,
    touch: bool = True,
) -> SignedInUser | None:
    """``touch`` False: a background request (a page polling its own progress) that must
    not keep an unattended session alive."""
    if not cookie_value or len(cookie_value) > MAX_COOKIE_LENGTH:
        return None
    row = session.execute(
        sa.select(WebSession, User, Firm.name)
        .join(User, User.id == WebSession.user_id)
        .join(Firm, Firm.id == User.firm_id)
        .where(WebSession.token_hash == _digest(cookie_value))
    ).first()
    if row is None:
        return None
    web, user, firm_name = row
    if user.disabled_at is not None or _expired(web, now, policy):
        session.delete(web)
        return None
    if touch and now - web.last_seen_at >= TOUCH_EVERY:
        web.last_seen_at = now
    return SignedInUser(
        session_id=web.id,
        user_id=user.id,
        email=user.email,
        role=user.role,
        firm_id=user.firm_id,
        firm_name=firm_name,
        csrf_token=web.csrf_token,
        must_change_password=user.must_change_password,
    )


def _expired(web: WebSession, now: datetime, policy: SessionPolicy) -> bool:
    return now - web.last_seen_at > policy.idle or now - web.created_at > policy.absolute


def close_session(session: Session, cookie_value: str) -> None:
    session.execute(sa.delete(WebSession).where(WebSession.token_hash == _digest(cookie_value)))


def csrf_matches(expected: str, given: str | None) -> bool:
    """``True`` when ``given`` is the (non-empty) ``expected`` token; never for two blanks."""
    if not expected or not given:
        return False  # a missing sign-in cookie and an empty field must not "match"
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )
