"""Users of a firm: create, list, disable, enable, reset, set role, change password, look up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.accounts.errors import (
    AccountError,
    InvalidEmail,
    UserExists,
    UserNotFound,
    WeakPassword,
    WrongPassword,
)
from syncbucket.accounts.passwords import verify_password
from syncbucket.accounts.users import (
    change_password,
    create_user,
    disable_user,
    enable_user,
    end_sessions,
    find_user,
    get_user,
    list_users,
    normalise_email,
    reset_password,
    set_role,
    user_by_id,
)
from syncbucket.accounts.web_sessions import open_session, resolve
from syncbucket.db.firms import Firm
from syncbucket.db.users import User, WebSession
from syncbucket.domain.roles import Role
from tests.unit.accounts.conftest import GOOD_PASSWORD, T0, MakeUser

pytestmark = pytest.mark.usefixtures("fast_hashes")
NEW_PASSWORD = "another long passphrase"


def session_count(session: Session, user: User) -> int:
    query = sa.select(sa.func.count(WebSession.id)).where(WebSession.user_id == user.id)
    return int(session.scalar(query) or 0)


def stored(session: Session, user: User) -> User:
    """The row as the database has it now, not as the identity map remembers it."""
    session.flush()
    session.expire(user)
    found = session.get(User, user.id)
    assert found is not None
    return found


# --- create -----------------------------------------------------------------------------


def test_create_normalises_the_email_and_generates_a_one_time_password(
    session: Session, firm: Firm
) -> None:
    made = create_user(session, firm.id, "  Asha.Rao@Example.COM ", Role.ADMIN)
    user = stored(session, made.user)
    assert user.email == "asha.rao@example.com"
    assert user.firm_id == firm.id and user.role is Role.ADMIN
    assert made.one_time_password is not None and len(made.one_time_password) == 16
    assert made.one_time_password not in user.password_hash
    assert verify_password(user.password_hash, made.one_time_password)
    assert user.must_change_password is True
    assert user.disabled_at is None and user.last_signin_at is None


def test_create_with_a_chosen_password_needs_no_change(session: Session, firm: Firm) -> None:
    made = create_user(session, firm.id, "ravi@example.com", Role.VIEWER, GOOD_PASSWORD)
    user = stored(session, made.user)
    assert made.one_time_password is None
    assert user.must_change_password is False
    assert verify_password(user.password_hash, GOOD_PASSWORD)


def test_create_refuses_a_weak_chosen_password_and_stores_nothing(
    session: Session, firm: Firm
) -> None:
    with pytest.raises(WeakPassword, match="at least 12 characters"):
        create_user(session, firm.id, "ravi@example.com", Role.VIEWER, "short")
    assert find_user(session, "ravi@example.com") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "an e-mail address is required"),
        ("   ", "an e-mail address is required"),
        ("no-at-sign", "'no-at-sign' is not an e-mail address (name@example.com)"),
        ("name@nodot", "'name@nodot' is not an e-mail address"),
        ("two@@example.com", "is not an e-mail address"),
        ("with space@example.com", "is not an e-mail address"),
        ("@example.com", "is not an e-mail address"),
        ("x" * 243 + "@example.com", "at most 254 characters"),
    ],
)
def test_create_refuses_an_invalid_email_with_a_message(
    session: Session, firm: Firm, text: str, message: str
) -> None:
    with pytest.raises(InvalidEmail) as refused:
        create_user(session, firm.id, text, Role.VIEWER, GOOD_PASSWORD)
    assert message in str(refused.value)
    assert session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_normalise_email_accepts_the_longest_address() -> None:
    longest = "x" * 242 + "@example.com"
    assert len(longest) == 254
    assert normalise_email(f"  {longest.upper()}  ") == longest


def test_an_email_is_unique_across_firms(
    session: Session, firm: Firm, other_firm: Firm, make_user: MakeUser
) -> None:
    make_user("asha@example.com")
    with pytest.raises(UserExists, match=re.escape("'asha@example.com' already exists")):
        create_user(session, other_firm.id, " ASHA@example.com", Role.ADMIN)
    with pytest.raises(UserExists):
        create_user(session, firm.id, "Asha@Example.com", Role.ADMIN)
    assert [u.email for u in list_users(session)] == ["asha@example.com"]


def test_errors_are_account_errors() -> None:
    for kind in (InvalidEmail, UserExists, UserNotFound, WeakPassword, WrongPassword):
        assert issubclass(kind, AccountError)


# --- list -------------------------------------------------------------------------------


def test_list_is_ordered_by_firm_then_email_and_scoped_by_firm(
    session: Session, firm: Firm, other_firm: Firm, make_user: MakeUser
) -> None:
    # firm is "Firm <hex>", other_firm is "Other <hex>": firm sorts first
    make_user("zoe@example.com", Role.VIEWER)
    create_user(session, firm.id, "amit@example.com", Role.ADMIN)  # one-time password
    make_user("bela@example.com", Role.OPERATOR, in_firm=other_firm)

    everyone = list_users(session)
    assert [(u.firm_name, u.email) for u in everyone] == [
        (firm.name, "amit@example.com"),
        (firm.name, "zoe@example.com"),
        (other_firm.name, "bela@example.com"),
    ]
    amit, zoe = everyone[0], everyone[1]
    assert (amit.role, amit.must_change_password, amit.disabled) == ("admin", True, False)
    assert (zoe.role, zoe.must_change_password, zoe.firm_id) == ("viewer", False, firm.id)
    assert zoe.last_signin_at is None and zoe.created_at.tzinfo is not None

    assert [u.email for u in list_users(session, firm.id)] == [
        "amit@example.com",
        "zoe@example.com",
    ]
    assert [u.email for u in list_users(session, other_firm.id)] == ["bela@example.com"]
    assert list_users(session, other_firm.id + 1000) == []


def test_a_summary_carries_no_password_material(session: Session, make_user: MakeUser) -> None:
    make_user()
    (summary,) = list_users(session)
    assert not any("password_hash" in name for name in vars(summary))
    assert GOOD_PASSWORD not in repr(summary) and "$argon2" not in repr(summary)


# --- disable / enable -------------------------------------------------------------------


def test_disable_ends_every_session_of_that_user_only(
    session: Session, make_user: MakeUser
) -> None:
    asha, ravi = make_user("asha@example.com"), make_user("ravi@example.com")
    first, second = open_session(session, asha, T0), open_session(session, asha, T0)
    kept = open_session(session, ravi, T0)

    disable_user(session, asha, T0 + timedelta(minutes=5))

    assert stored(session, asha).disabled_at == T0 + timedelta(minutes=5)
    assert session_count(session, asha) == 0
    assert resolve(session, first.cookie_value, T0) is None
    assert resolve(session, second.cookie_value, T0) is None
    assert resolve(session, kept.cookie_value, T0) is not None
    assert [u.disabled for u in list_users(session)] == [True, False]


def test_disabling_twice_keeps_the_first_time(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    disable_user(session, asha, T0)
    disable_user(session, asha, T0 + timedelta(days=1))
    assert stored(session, asha).disabled_at == T0


def test_disable_without_a_time_uses_now(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    disable_user(session, asha)
    disabled_at = stored(session, asha).disabled_at
    assert disabled_at is not None and disabled_at > asha.created_at - timedelta(seconds=1)


def test_enable_lets_a_disabled_user_back(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    disable_user(session, asha, T0)
    enable_user(session, asha)
    assert stored(session, asha).disabled_at is None
    assert [u.disabled for u in list_users(session)] == [False]


# --- reset password ---------------------------------------------------------------------


def test_reset_generates_a_one_time_password_and_ends_sessions(
    session: Session, make_user: MakeUser
) -> None:
    asha = make_user()
    before = asha.password_changed_at
    opened = open_session(session, asha, T0)

    made = reset_password(session, asha)

    user = stored(session, asha)
    assert made.user is asha and made.one_time_password is not None
    assert verify_password(user.password_hash, made.one_time_password)
    assert not verify_password(user.password_hash, GOOD_PASSWORD)
    assert user.must_change_password is True
    assert user.password_changed_at >= before
    assert session_count(session, asha) == 0
    assert resolve(session, opened.cookie_value, T0) is None
    again = reset_password(session, asha)
    assert again.one_time_password not in (None, made.one_time_password)


def test_reset_to_a_chosen_password(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    reset_password(session, asha)  # one-time first, then the admin sets one
    made = reset_password(session, asha, NEW_PASSWORD)
    user = stored(session, asha)
    assert made.one_time_password is None and user.must_change_password is False
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_reset_refuses_a_weak_password_and_keeps_the_old(
    session: Session, make_user: MakeUser
) -> None:
    asha = make_user()
    with pytest.raises(WeakPassword, match="control characters"):
        reset_password(session, asha, "has a\ttab in it")
    assert verify_password(stored(session, asha).password_hash, GOOD_PASSWORD)


# --- role -------------------------------------------------------------------------------


def test_set_role_is_stored(session: Session, make_user: MakeUser) -> None:
    asha = make_user(role=Role.VIEWER)
    set_role(session, asha, Role.ADMIN)
    assert stored(session, asha).role is Role.ADMIN
    assert [u.role for u in list_users(session)] == ["admin"]
    set_role(session, asha, Role.OPERATOR)
    assert stored(session, asha).role is Role.OPERATOR


# --- change password (the user's own) ---------------------------------------------------


def test_change_password_refuses_a_wrong_current_one(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    with pytest.raises(WrongPassword, match="the current password is not right"):
        change_password(session, asha, "not my password!", NEW_PASSWORD)
    assert verify_password(stored(session, asha).password_hash, GOOD_PASSWORD)


def test_change_password_refuses_the_same_one(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    with pytest.raises(AccountError, match="different from the current one"):
        change_password(session, asha, GOOD_PASSWORD, GOOD_PASSWORD)


def test_change_password_enforces_the_rule(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    with pytest.raises(WeakPassword, match="at least 12"):
        change_password(session, asha, GOOD_PASSWORD, "short")
    assert verify_password(stored(session, asha).password_hash, GOOD_PASSWORD)


def test_change_password_replaces_a_one_time_password(session: Session, firm: Firm) -> None:
    made = create_user(session, firm.id, "asha@example.com", Role.OPERATOR)
    assert made.one_time_password is not None
    before = made.user.password_changed_at

    change_password(session, made.user, made.one_time_password, NEW_PASSWORD)

    user = stored(session, made.user)
    assert user.must_change_password is False
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, made.one_time_password)
    assert user.password_changed_at >= before


# --- look-ups ---------------------------------------------------------------------------


def test_get_user_normalises_and_scopes_by_firm(
    session: Session, firm: Firm, other_firm: Firm, make_user: MakeUser
) -> None:
    asha = make_user("asha@example.com")
    bela = make_user("bela@example.com", in_firm=other_firm)
    assert get_user(session, "  ASHA@Example.com ") is asha
    assert get_user(session, "asha@example.com", firm.id) is asha
    assert get_user(session, "bela@example.com") is bela  # no firm given: anyone's
    with pytest.raises(UserNotFound, match=re.escape("no user 'bela@example.com'")):
        get_user(session, "bela@example.com", firm.id)  # another firm's looks missing
    with pytest.raises(UserNotFound, match=re.escape("no user 'ghost@example.com'")):
        get_user(session, " ghost@example.com ")
    with pytest.raises(UserNotFound, match="no user 'not an address'"):
        get_user(session, "not an address")  # a bad address is simply nobody


def test_find_user_is_none_for_nobody(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    assert find_user(session, "ASHA@example.com") is asha
    assert find_user(session, "ghost@example.com") is None
    assert find_user(session, "") is None
    assert find_user(session, "@@") is None


def test_user_by_id_is_scoped_by_firm(
    session: Session, firm: Firm, other_firm: Firm, make_user: MakeUser
) -> None:
    asha = make_user("asha@example.com")
    bela = make_user("bela@example.com", in_firm=other_firm)
    assert user_by_id(session, firm.id, asha.id) is asha
    with pytest.raises(UserNotFound, match=f"no user with id {bela.id}"):
        user_by_id(session, firm.id, bela.id)
    with pytest.raises(UserNotFound):
        user_by_id(session, firm.id, 999_999)


def test_end_sessions_can_keep_the_current_one(session: Session, make_user: MakeUser) -> None:
    asha = make_user()
    kept = open_session(session, asha, T0)
    for _ in range(2):
        open_session(session, asha, T0)
    current = resolve(session, kept.cookie_value, T0)
    assert current is not None

    assert end_sessions(session, asha.id, keep_session_id=current.session_id) == 2

    assert session_count(session, asha) == 1
    assert resolve(session, kept.cookie_value, T0) is not None
    assert end_sessions(session, asha.id) == 1
    assert end_sessions(session, asha.id) == 0


def test_an_admin_reset_lifts_the_sign_in_throttle_of_that_account(
    session: Session, make_user: MakeUser, fast_hashes: object
) -> None:
    from datetime import UTC, datetime

    from syncbucket.accounts.signin import Refused, SignedIn, ThrottlePolicy, sign_in

    user = make_user(email="locked.out@example.com")
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    policy = ThrottlePolicy(free_failures=2, max_delay_seconds=900)
    for _ in range(4):
        sign_in(session, user.email, "wrong password!!", "10.0.0.1", now, policy)
    assert isinstance(sign_in(session, user.email, "x" * 12, "10.0.0.2", now, policy), Refused)
    new = reset_password(session, user, "a brand new password").user
    assert isinstance(
        sign_in(session, new.email, "a brand new password", "10.0.0.2", now, policy), SignedIn
    )
