"""Sign-in: one answer for every failure, and the throttle (time driven by explicit ``now``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from syncbucket.accounts import passwords
from syncbucket.accounts.passwords import needs_rehash, verify_password
from syncbucket.accounts.signin import (
    WRONG,
    Refused,
    SignedIn,
    ThrottlePolicy,
    account_key,
    address_key,
    sign_in,
)
from syncbucket.accounts.users import disable_user, enable_user
from syncbucket.db.users import SigninFailure, User
from tests.unit.accounts.conftest import GOOD_PASSWORD, T0, MakeUser

pytestmark = pytest.mark.usefixtures("fast_hashes")
ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.9"
BAD = "not the right password"
EMAIL = "asha@example.com"
SECONDS = timedelta(seconds=1)


def failures(session: Session, key: str) -> int | None:
    session.expire_all()
    row = session.get(SigninFailure, key)
    return None if row is None else row.failures


def throttled(seconds: int) -> Refused:
    unit = "second" if seconds == 1 else "seconds"
    return Refused(f"Too many failed sign-ins. Wait {seconds} {unit} and try again.", seconds)


def fail_times(
    session: Session, count: int, at: datetime, email: str = EMAIL, address: str = ADDRESS
) -> None:
    for _ in range(count):
        assert sign_in(session, email, BAD, address, at) == Refused(WRONG)


# --- the answer -------------------------------------------------------------------------


def test_success_returns_the_user_and_records_the_time(
    session: Session, make_user: MakeUser
) -> None:
    asha = make_user(EMAIL)
    result = sign_in(session, "  Asha@Example.COM ", GOOD_PASSWORD, ADDRESS, T0)
    assert isinstance(result, SignedIn) and result.user is asha
    session.flush()
    session.expire(asha)
    assert asha.last_signin_at == T0
    assert failures(session, account_key(EMAIL)) is None


def test_every_failure_gets_the_same_answer(session: Session, make_user: MakeUser) -> None:
    make_user(EMAIL)
    disabled = make_user("ravi@example.com")
    disable_user(session, disabled, T0)
    answers = [
        sign_in(session, EMAIL, BAD, ADDRESS, T0),  # wrong password
        sign_in(session, "ghost@example.com", GOOD_PASSWORD, ADDRESS, T0),  # unknown e-mail
        sign_in(session, "ravi@example.com", GOOD_PASSWORD, ADDRESS, T0),  # disabled
        sign_in(session, "not an e-mail", GOOD_PASSWORD, ADDRESS, T0),
    ]
    assert answers == [Refused(WRONG)] * 4
    assert WRONG == "The e-mail address or the password is not right."


def test_failures_are_counted_per_account_and_address_even_for_unknown_emails(
    session: Session, make_user: MakeUser
) -> None:
    make_user(EMAIL)
    fail_times(session, 2, T0)
    fail_times(session, 1, T0, email="Ghost@Example.com")
    assert failures(session, account_key(EMAIL)) == 2
    assert failures(session, account_key("ghost@example.com")) == 1
    assert failures(session, address_key(ADDRESS)) == 3


def test_a_disabled_user_signs_in_again_once_enabled(session: Session, make_user: MakeUser) -> None:
    asha = make_user(EMAIL)
    disable_user(session, asha, T0)
    assert sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0) == Refused(WRONG)
    enable_user(session, asha)
    assert isinstance(sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0), SignedIn)


# --- the throttle -----------------------------------------------------------------------


def test_free_failures_then_a_wait_even_for_the_right_password(
    session: Session, make_user: MakeUser
) -> None:
    make_user(EMAIL)
    fail_times(session, 5, T0)  # the default policy: five free failures
    early = T0 + SECONDS / 2
    assert sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, early) == throttled(1)
    assert sign_in(session, EMAIL, BAD, OTHER_ADDRESS, early) == throttled(1)  # per account
    assert failures(session, account_key(EMAIL)) == 5  # a refused attempt is not counted
    result = sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0 + SECONDS)
    assert isinstance(result, SignedIn)


def test_an_unknown_email_is_throttled_with_the_same_answer(
    session: Session, make_user: MakeUser
) -> None:
    make_user(EMAIL)
    fail_times(session, 5, T0, email=EMAIL, address=ADDRESS)
    fail_times(session, 5, T0, email="ghost@example.com", address=OTHER_ADDRESS)
    at = T0 + SECONDS / 4
    known = sign_in(session, EMAIL, BAD, ADDRESS, at)
    unknown = sign_in(session, "ghost@example.com", BAD, OTHER_ADDRESS, at)
    assert known == unknown == throttled(1)
    assert isinstance(unknown, Refused) and unknown.message.startswith("Too many failed sign-ins")


def test_the_delay_doubles_up_to_the_maximum(session: Session, make_user: MakeUser) -> None:
    make_user(EMAIL)
    policy = ThrottlePolicy(free_failures=2, max_delay_seconds=16)
    at = T0
    for _ in range(2):
        assert sign_in(session, EMAIL, BAD, ADDRESS, at, policy) == Refused(WRONG)
    for delay in (1, 2, 4, 8, 16, 16, 16):
        half_way = at + SECONDS / 2
        assert sign_in(session, EMAIL, BAD, ADDRESS, half_way, policy) == throttled(delay)
        just_before = at + delay * SECONDS - timedelta(milliseconds=1)
        assert sign_in(session, EMAIL, BAD, ADDRESS, just_before, policy) == throttled(1)
        at += delay * SECONDS
        assert sign_in(session, EMAIL, BAD, ADDRESS, at, policy) == Refused(WRONG)
    assert failures(session, account_key(EMAIL)) == 9


def test_the_wait_is_reported_in_minutes_when_long(session: Session) -> None:
    session.add(
        SigninFailure(key=account_key(EMAIL), failures=30, first_failure_at=T0, last_failure_at=T0)
    )
    session.flush()
    assert sign_in(session, EMAIL, BAD, ADDRESS, T0 + SECONDS / 2) == Refused(
        "Too many failed sign-ins. Wait 15 minutes and try again.", 900
    )


def test_a_huge_failure_count_does_not_overflow(session: Session) -> None:
    # 2.0 ** 1024 overflows a float: a patient guesser used to break the account's sign-in
    session.add(
        SigninFailure(
            key=account_key(EMAIL), failures=5_000, first_failure_at=T0, last_failure_at=T0
        )
    )
    session.flush()
    refused = sign_in(session, EMAIL, BAD, ADDRESS, T0 + 10.5 * SECONDS)
    assert refused == Refused("Too many failed sign-ins. Wait 15 minutes and try again.", 890)
    later = T0 + timedelta(seconds=901)
    assert sign_in(session, EMAIL, BAD, ADDRESS, later) == Refused(WRONG)
    assert failures(session, account_key(EMAIL)) == 5_001


def test_counts_lapse_after_twice_the_maximum_delay_of_quiet(
    session: Session, make_user: MakeUser
) -> None:
    make_user(EMAIL)
    policy = ThrottlePolicy(free_failures=1, max_delay_seconds=10)
    fail_times_with = [sign_in(session, EMAIL, BAD, ADDRESS, T0, policy)]
    at = T0
    for delay in (1, 2, 4, 8):
        at += delay * SECONDS
        fail_times_with.append(sign_in(session, EMAIL, BAD, ADDRESS, at, policy))
    assert fail_times_with == [Refused(WRONG)] * 5
    assert failures(session, account_key(EMAIL)) == 5  # the next wait would be 10 s

    assert sign_in(session, EMAIL, BAD, ADDRESS, at + 20 * SECONDS, policy) == Refused(WRONG)
    assert failures(session, account_key(EMAIL)) == 6  # 20 s of quiet is not more than 2x10

    quiet = at + 20 * SECONDS + 21 * SECONDS
    assert sign_in(session, EMAIL, BAD, ADDRESS, quiet, policy) == Refused(WRONG)
    assert failures(session, account_key(EMAIL)) == 1  # lapsed: counting starts again
    assert failures(session, address_key(ADDRESS)) == 1
    assert sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, quiet, policy) == throttled(2)
    result = sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, quiet + SECONDS, policy)
    assert isinstance(result, SignedIn)  # the restarted count asks for 1 s, not 10


def test_a_success_clears_the_account_counter_but_not_the_address(
    session: Session, make_user: MakeUser
) -> None:
    make_user(EMAIL)
    fail_times(session, 4, T0)
    assert isinstance(sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0), SignedIn)
    assert failures(session, account_key(EMAIL)) is None
    assert failures(session, address_key(ADDRESS)) == 4
    fail_times(session, 5, T0)  # five free again: without the reset the 6th would wait
    assert failures(session, account_key(EMAIL)) == 5
    assert sign_in(session, EMAIL, BAD, ADDRESS, T0) == throttled(2)  # wait of exactly 1 s


def test_an_address_gets_four_times_the_free_failures(session: Session) -> None:
    policy = ThrottlePolicy(free_failures=2)
    for n in range(8):  # distinct e-mails: only the address counter adds up
        email = f"guess{n}@example.com"
        assert sign_in(session, email, BAD, ADDRESS, T0, policy) == Refused(WRONG)
    assert failures(session, address_key(ADDRESS)) == 8
    at = T0 + SECONDS / 2
    assert sign_in(session, "fresh@example.com", BAD, ADDRESS, at, policy) == throttled(1)
    # the same fresh e-mail from another address is not slowed down
    assert sign_in(session, "fresh@example.com", BAD, OTHER_ADDRESS, at, policy) == Refused(WRONG)


def test_an_address_has_twenty_free_failures_by_default(session: Session) -> None:
    for n in range(19):
        assert sign_in(session, f"guess{n}@example.com", BAD, ADDRESS, T0) == Refused(WRONG)
    assert sign_in(session, "one-more@example.com", BAD, ADDRESS, T0) == Refused(WRONG)  # 20th
    assert sign_in(session, "another@example.com", BAD, ADDRESS, T0) == throttled(2)


def test_long_keys_are_truncated_to_the_column() -> None:
    assert len(account_key("x" * 500 + "@example.com")) == 300
    assert len(address_key("y" * 500)) == 300
    assert account_key("  Asha@Example.COM ") == "account:asha@example.com"


# --- rehash -----------------------------------------------------------------------------


def test_an_outdated_hash_is_replaced_at_sign_in(session: Session, make_user: MakeUser) -> None:
    asha = make_user(EMAIL)
    older = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    asha.password_hash = older.hash(GOOD_PASSWORD)
    session.flush()
    assert needs_rehash(asha.password_hash)
    assert isinstance(sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0), SignedIn)
    session.flush()
    session.expire(asha)
    assert not needs_rehash(asha.password_hash)
    assert verify_password(asha.password_hash, GOOD_PASSWORD)


def test_a_password_from_an_older_rule_still_signs_in_when_rehashing(
    session: Session, make_user: MakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    asha = make_user(EMAIL)
    outdated = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(GOOD_PASSWORD)
    asha.password_hash = outdated
    session.flush()
    monkeypatch.setattr(passwords, "MIN_LENGTH", 64)  # the rule got stricter since
    result = sign_in(session, EMAIL, GOOD_PASSWORD, ADDRESS, T0)
    assert isinstance(result, SignedIn)
    assert session.scalar(sa.select(User.password_hash).where(User.id == asha.id)) == outdated
