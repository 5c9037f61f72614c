"""The sign-in throttle holds against guesses sent all at once, on PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from syncbucket.accounts import passwords
from syncbucket.accounts.signin import WRONG, Refused, ThrottlePolicy, sign_in
from syncbucket.accounts.users import create_user
from syncbucket.db.firms import Firm
from syncbucket.db.session import SessionFactory, unit_of_work
from syncbucket.domain.roles import Role

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(free_failures=2, max_delay_seconds=900)


def test_guesses_sent_at_once_are_counted_one_by_one(
    pg_sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    email = f"target-{uuid.uuid4().hex[:6]}@example.com"
    with unit_of_work(pg_sessions) as session:
        firm = Firm(name=f"Throttle {uuid.uuid4().hex[:6]}")
        session.add(firm)
        session.flush()
        create_user(session, firm.id, email, Role.VIEWER, "the right password!")

    def guess(index: int) -> str:
        with unit_of_work(pg_sessions) as session:
            result = sign_in(
                session, email, f"guess number {index:03d}", f"10.1.{index}.1", NOW, POLICY
            )
        assert isinstance(result, Refused)
        return result.message

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(guess, range(24)))
    # Two free failures, then every guess waits: only two passwords were ever checked.
    assert answers.count(WRONG) == 2, answers
    assert all(a.startswith("Too many failed sign-ins") for a in answers if a != WRONG)
