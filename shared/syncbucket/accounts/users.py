"""Users of a firm: create, list, disable, enable, reset the password, change role.

E-mail addresses are unique across firms (a person signs in with the address alone) and
kept lower-cased. Creating or resetting without a password generates a one-time password,
returned once and never stored in clear; the user must replace it at the next sign-in.
Disabling a user or resetting their password ends every session they have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.accounts.errors import InvalidEmail, UserExists, UserNotFound, WrongPassword
from syncbucket.accounts.passwords import generate_password, hash_password, verify_password
from syncbucket.accounts.signin import account_key
from syncbucket.db.base import utcnow
from syncbucket.db.firms import Firm
from syncbucket.db.users import SigninFailure, User, WebSession
from syncbucket.domain.roles import Role

MAX_EMAIL_LENGTH = 254
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class UserSummary:
    id: int
    firm_id: int
    firm_name: str
    email: str
    role: str
    disabled: bool
    must_change_password: bool
    created_at: datetime
    last_signin_at: datetime | None


@dataclass(frozen=True)
class NewPassword:
    """The user a password was set for and, when it was generated, the one-time password."""

    user: User
    one_time_password: str | None


def normalise_email(text: str) -> str:
    email = text.strip().lower()
    if not email:
        raise InvalidEmail("an e-mail address is required")
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(f"an e-mail address has at most {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL_RE.match(email):
        raise InvalidEmail(f"{text.strip()!r} is not an e-mail address (name@example.com)")
    return email


def find_user(session: Session, email: str) -> User | None:
    try:
        wanted = normalise_email(email)
    except InvalidEmail:
        return None
    return session.scalars(sa.select(User).where(User.email == wanted)).first()


def get_user(session: Session, email: str, firm_id: int | None = None) -> User:
    """The user with this e-mail (in ``firm_id`` when given: another firm's looks missing)."""
    user = find_user(session, email)
    if user is None or (firm_id is not None and user.firm_id != firm_id):
        raise UserNotFound(f"no user {email.strip()!r}")
    return user


def user_by_id(session: Session, firm_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.firm_id != firm_id:
        raise UserNotFound(f"no user with id {user_id}")
    return user


def create_user(
    session: Session, firm_id: int, email: str, role: Role, password: str | None = None
) -> NewPassword:
    address = normalise_email(email)
    if session.scalar(sa.select(User.id).where(User.email == address)) is not None:
        raise UserExists(f"a user {address!r} already exists (e-mail addresses are unique)")
    one_time = generate_password() if password is None else None
    user = User(
        firm_id=firm_id,
        email=address,
        role=role,
        password_hash=hash_password(password if password is not None else str(one_time)),
        must_change_password=one_time is not None,
    )
    session.add(user)
    session.flush()
    return NewPassword(user, one_time)


def list_users(session: Session, firm_id: int | None = None) -> list[UserSummary]:
    query = (
        sa.select(User, Firm.name)
        .join(Firm, Firm.id == User.firm_id)
        .order_by(Firm.name, User.email)
    )
    if firm_id is not None:
        query = query.where(User.firm_id == firm_id)
    return [
        UserSummary(
            id=user.id,
            firm_id=user.firm_id,
            firm_name=firm_name,
            email=user.email,
            role=user.role.value,
            disabled=user.disabled_at is not None,
            must_change_password=user.must_change_password,
            created_at=user.created_at,
            last_signin_at=user.last_signin_at,
        )
        for user, firm_name in session.execute(query)
    ]


def disable_user(session: Session, user: User, now: datetime | None = None) -> None:
    if user.disabled_at is None:
        user.disabled_at = now or utcnow()
    end_sessions(session, user.id)


def enable_user(session: Session, user: User) -> None:
    user.disabled_at = None


def set_role(session: Session, user: User, role: Role) -> None:
    user.role = role
    session.flush()


def reset_password(session: Session, user: User, password: str | None = None) -> NewPassword:
    """A new password (generated = one-time when ``password`` is None); sessions end."""
    one_time = generate_password() if password is None else None
    user.password_hash = hash_password(password if password is not None else str(one_time))
    user.must_change_password = one_time is not None
    user.password_changed_at = utcnow()
    end_sessions(session, user.id)
    # An admin's reset is the way out of the sign-in throttle for this account.
    session.execute(sa.delete(SigninFailure).where(SigninFailure.key == account_key(user.email)))
    session.flush()
    return NewPassword(user, one_time)


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """The user's own change: the current password proves it is them."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword("the current password is not right")
    if verify_password(user.password_hash, new):
        raise WrongPassword("choose a password different from the current one")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    session.flush()


def end_sessions(session: Session, user_id: int, keep_session_id: int | None = None) -> int:
    query = sa.delete(WebSession).where(WebSession.user_id == user_id)
    if keep_session_id is not None:
        query = query.where(WebSession.id != keep_session_id)
    result = session.execute(query, execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]
