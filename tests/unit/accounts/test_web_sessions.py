"""Web sessions: cookie stored only as its SHA-256, idle/absolute expiry, touch, CSRF."""

from __future__ import annotations

import hashlib
import string
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.accounts.users import set_role
from syncbucket.accounts.web_sessions import (
    MAX_COOKIE_LENGTH,
    SessionPolicy,
    SignedInUser,
    close_session,
    csrf_matches,
    open_session,
    resolve,
)
from syncbucket.db.firms import Firm
from syncbucket.db.users import WebSession
from syncbucket.domain.roles import Role
from tests.unit.accounts.conftest import T0, MakeUser

pytestmark = pytest.mark.usefixtures("fast_hashes")
URL_SAFE = set(string.ascii_letters + string.digits + "-_")
MINUTE = timedelta(minutes=1)


def rows(session: Session) -> list[sa.Row[tuple[object, ...]]]:
    session.flush()
    return list(session.execute(sa.select(WebSession.__table__)))


def row_of(session: Session, session_id: int) -> WebSession:
    session.flush()
    session.expire_all()
    found = session.get(WebSession, session_id)
    assert found is not None
    return found


def test_open_returns_cookie_and_csrf_and_stores_only_the_cookie_digest(
    session: Session, make_user: MakeUser
) -> None:
    asha = make_user()
    opened = open_session(session, asha, T0)
    assert len(opened.cookie_value) >= 43 and set(opened.cookie_value) <= URL_SAFE
    assert len(opened.csrf_token) >= 43 and set(opened.csrf_token) <= URL_SAFE
    assert opened.cookie_value != opened.csrf_token

    (row,) = rows(session)
    assert row.token_hash == hashlib.sha256(opened.cookie_value.encode()).hexdigest()
    assert row.csrf_token == opened.csrf_token
    assert row.user_id == asha.id
    for value in row:  # not the cookie, nor any part of it, in any column
        assert opened.cookie_value[:20] not in str(value)
    assert row_of(session, row.id).created_at == T0
    assert row_of(session, row.id).last_seen_at == T0


def test_each_session_gets_fresh_values(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    opened = [open_session(session, asha, T0) for _ in range(3)]
    assert len({o.cookie_value for o in opened}) == 3
    assert len({o.csrf_token for o in opened}) == 3
    assert len(rows(session)) == 3


def test_resolve_gives_who_the_request_acts_for(
    session: Session, firm: Firm, make_user: MakeUser
) -> None:
    asha = make_user("asha@example.com", Role.ADMIN)
    opened = open_session(session, asha, T0)
    found = resolve(session, opened.cookie_value, T0 + MINUTE)
    (row,) = rows(session)
    assert found == SignedInUser(
        session_id=row.id,
        user_id=asha.id,
        email="asha@example.com",
        role=Role.ADMIN,
        firm_id=firm.id,
        firm_name=firm.name,
        csrf_token=opened.csrf_token,
        must_change_password=False,
    )
    assert found.requested_by == "ui:asha@example.com"


def test_resolve_follows_the_users_role_and_password_state(
    session: Session, make_user: MakeUser
) -> None:
    asha = make_user(role=Role.VIEWER)
    opened = open_session(session, asha, T0)
    set_role(session, asha, Role.OPERATOR)
    asha.must_change_password = True
    found = resolve(session, opened.cookie_value, T0)
    assert found is not None
    assert found.role is Role.OPERATOR and found.must_change_password is True


@pytest.mark.parametrize(
    "cookie", ["", "not-a-session", "x" * (MAX_COOKIE_LENGTH + 1), "ünïcode-cookie"]
)
def test_resolve_of_an_unknown_cookie_is_none(
    session: Session, make_user: MakeUser, cookie: str
) -> None:
    open_session(session, make_user(), T0)
    assert resolve(session, cookie, T0) is None
    assert len(rows(session)) == 1


def test_the_stored_digest_is_not_a_cookie(session: Session, make_user: MakeUser) -> None:
    open_session(session, make_user(), T0)
    (row,) = rows(session)
    assert resolve(session, row.token_hash, T0) is None  # a database dump signs nobody in


def test_idle_expiry_deletes_the_session(session: Session, make_user: MakeUser) -> None:
    policy = SessionPolicy(idle=timedelta(minutes=30))
    opened = open_session(session, make_user(), T0)
    assert resolve(session, opened.cookie_value, T0 + timedelta(minutes=30), policy) is not None
    last_seen = T0 + timedelta(minutes=30)
    too_late = last_seen + timedelta(minutes=30, seconds=1)
    assert resolve(session, opened.cookie_value, too_late, policy) is None
    assert rows(session) == []
    assert resolve(session, opened.cookie_value, last_seen, policy) is None  # gone for good


def test_absolute_expiry_deletes_even_a_busy_session(session: Session, make_user: MakeUser) -> None:
    policy = SessionPolicy(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    opened = open_session(session, make_user(), T0)
    at = T0
    while at < T0 + timedelta(hours=12):
        at += timedelta(minutes=20)  # busy: never idle for long
        found = resolve(session, opened.cookie_value, min(at, T0 + timedelta(hours=12)), policy)
        assert found is not None
    late = T0 + timedelta(hours=12, seconds=1)
    assert resolve(session, opened.cookie_value, late, policy) is None
    assert rows(session) == []


def test_a_disabled_users_session_is_none_and_deleted(
    session: Session, make_user: MakeUser
) -> None:
    asha, ravi = make_user("asha@example.com"), make_user("ravi@example.com")
    opened = open_session(session, asha, T0)
    other = open_session(session, ravi, T0)
    asha.disabled_at = T0  # directly: disable_user would already have ended the sessions
    assert resolve(session, opened.cookie_value, T0) is None
    assert [row.user_id for row in rows(session)] == [ravi.id]
    assert resolve(session, other.cookie_value, T0) is not None


def test_last_seen_is_written_at_most_once_a_minute(session: Session, make_user: MakeUser) -> None:
    opened = open_session(session, make_user(), T0)
    found = resolve(session, opened.cookie_value, T0)
    assert found is not None
    sid = found.session_id

    resolve(session, opened.cookie_value, T0 + timedelta(seconds=59))
    assert row_of(session, sid).last_seen_at == T0
    resolve(session, opened.cookie_value, T0 + MINUTE)
    assert row_of(session, sid).last_seen_at == T0 + MINUTE
    resolve(session, opened.cookie_value, T0 + timedelta(seconds=119))
    assert row_of(session, sid).last_seen_at == T0 + MINUTE
    resolve(session, opened.cookie_value, T0 + timedelta(minutes=5))
    assert row_of(session, sid).last_seen_at == T0 + timedelta(minutes=5)
    assert row_of(session, sid).created_at == T0


def test_a_touch_keeps_an_active_session_from_idling_out(
    session: Session, make_user: MakeUser
) -> None:
    policy = SessionPolicy(idle=timedelta(minutes=30))
    opened = open_session(session, make_user(), T0)
    assert resolve(session, opened.cookie_value, T0 + timedelta(minutes=25), policy)
    assert resolve(session, opened.cookie_value, T0 + timedelta(minutes=50), policy)


def test_close_ends_only_that_session(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    closing, staying = open_session(session, asha, T0), open_session(session, asha, T0)
    close_session(session, closing.cookie_value)
    assert resolve(session, closing.cookie_value, T0) is None
    assert resolve(session, staying.cookie_value, T0) is not None
    assert len(rows(session)) == 1
    close_session(session, closing.cookie_value)  # again: nothing to do
    close_session(session, "")
    assert len(rows(session)) == 1


def test_csrf_matches_only_the_exact_non_empty_token() -> None:
    token = "s3ss10n-csrf-t0ken_abcdefghijklmnopqrstuvwxyz"
    assert csrf_matches(token, token)
    assert not csrf_matches(token, None)
    assert not csrf_matches(token, "")
    assert not csrf_matches(token, token[:-1])
    assert not csrf_matches(token, token + "x")
    assert not csrf_matches(token, token.upper())
    assert not csrf_matches(token, "ünïcode")  # no TypeError for non-ASCII
    assert not csrf_matches(token, "\ud800")  # nor for a lone surrogate


def test_csrf_never_matches_two_blanks() -> None:
    # the sign-in form compares its cookie (maybe missing: "") with the posted field
    assert not csrf_matches("", "")
    assert not csrf_matches("", None)
