"""Sign-in: e-mail + password, behind a throttle, with one answer for every failure.

The throttle counts failures per account and per client address (``signin_failures``).
The first ``free`` failures cost nothing; after that each attempt must wait
``2 ** (failures - free)`` seconds since the last failure, up to ``max_delay`` — a person
who mistyped is slowed by seconds, a guesser by hours over a few hundred tries. An
address gets four times the free failures of an account, so an office behind one NAT is
not slowed by a few colleagues' typos. Counts lapse after twice ``max_delay`` of quiet.

An unknown e-mail, a wrong password and a disabled account all get the same message, and
an unknown e-mail is hashed against a dummy so it takes as long; the throttle counts an
unknown e-mail's key like any other, so its answer never differs either.
"""

from __future__ import annotations

import contextlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from syncbucket.accounts.errors import WeakPassword
from syncbucket.accounts.passwords import hash_password, needs_rehash, verify_password
from syncbucket.db.upsert import insert_for
from syncbucket.db.users import SigninFailure, User

WRONG = "The e-mail address or the password is not right."
ADDRESS_FACTOR = 4
MAX_KEY_LENGTH = 300
_MAX_EXPONENT = 62  # 2 ** 62 seconds is beyond any max_delay


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 5
    max_delay_seconds: float = 900.0


@dataclass(frozen=True)
class SignedIn:
    user: User


@dataclass(frozen=True)
class Refused:
    message: str
    retry_after_seconds: int | None = None  # set when the throttle refused


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()}"[:MAX_KEY_LENGTH]


def address_key(address: str) -> str:
    """The client's address; an IPv6 one counts as its /64 (one host owns a whole /64)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"[:MAX_KEY_LENGTH]
    if parsed.version == 6:
        return f"address:{ipaddress.ip_network(f'{parsed}/64', strict=False)}"
    return f"address:{parsed}"


def sign_in(
    session: Session,
    email: str,
    password: str,
    address: str,
    now: datetime,
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> SignedIn | Refused:
    keys = {account_key(email): policy.free_failures}
    keys[address_key(address)] = policy.free_failures * ADDRESS_FACTOR
    _lock_account(session, account_key(email), now)
    wait = max(_wait(session, key, free, now, policy) for key, free in keys.items())
    if wait > 0:
        seconds = int(wait) + 1
        return Refused(
            f"Too many failed sign-ins. Wait {_duration(seconds)} and try again.", seconds
        )
    user = session.scalars(sa.select(User).where(User.email == email.strip().lower())).first()
    usable = user is not None and user.disabled_at is None
    if not verify_password(user.password_hash if usable and user else None, password):
        for key in keys:
            _count_failure(session, key, now, policy)
        return Refused(WRONG)
    assert user is not None
    session.execute(sa.delete(SigninFailure).where(SigninFailure.key == account_key(email)))
    if needs_rehash(user.password_hash):
        # A password set under an older rule: keep the old hash, the sign-in still succeeds.
        with contextlib.suppress(WeakPassword):
            user.password_hash = hash_password(password)
    user.last_signin_at = now
    return SignedIn(user)


def _lock_account(session: Session, key: str, now: datetime) -> None:
    """Serialise sign-ins of one account until this transaction ends.

    Without it, forty guesses sent at once on PostgreSQL would each read the same count,
    under the limit, before any of them is counted. A row with no failure is made first so
    there is something to lock (SQLite's BEGIN IMMEDIATE serialises writers anyway).
    """
    session.execute(
        insert_for(session, SigninFailure)
        .values(key=key, failures=0, first_failure_at=now, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(sa.select(SigninFailure.key).where(SigninFailure.key == key).with_for_update())


def _wait(session: Session, key: str, free: int, now: datetime, policy: ThrottlePolicy) -> float:
    row = session.get(SigninFailure, key)
    if row is None or _lapsed(row, now, policy) or row.failures < free:
        return 0.0
    # The exponent is capped: 2.0 ** 1024 overflows a float, which after a few weeks of
    # patient guessing would make every sign-in of the account fail with an exception.
    exponent = min(row.failures - free, _MAX_EXPONENT)
    delay = min(2.0**exponent, policy.max_delay_seconds)
    return (row.last_failure_at + timedelta(seconds=delay) - now).total_seconds()


def _lapsed(row: SigninFailure, now: datetime, policy: ThrottlePolicy) -> bool:
    return (now - row.last_failure_at).total_seconds() > 2 * policy.max_delay_seconds


def _count_failure(session: Session, key: str, now: datetime, policy: ThrottlePolicy) -> None:
    row = session.get(SigninFailure, key)
    if row is not None and _lapsed(row, now, policy):
        session.delete(row)
        session.flush()
    statement = insert_for(session, SigninFailure).values(
        key=key, failures=1, first_failure_at=now, last_failure_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["key"],
            set_={"failures": SigninFailure.failures + 1, "last_failure_at": now},
        )
    )
    session.expire_all()


def _duration(seconds: int) -> str:
    if seconds == 1:
        return "1 second"
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"
