"""The password rule, argon2 hashing with the real parameters, one-time passwords."""

from __future__ import annotations

import string
from typing import Any

import pytest
from argon2 import PasswordHasher

from syncbucket.accounts import passwords
from syncbucket.accounts.errors import WeakPassword
from syncbucket.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    check_password,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from tests.unit.accounts.conftest import CHEAP, GOOD_PASSWORD


class SpyHasher:
    """Wraps the real hasher and records what ``verify`` was asked."""

    def __init__(self, real: PasswordHasher) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append(password_hash)
        return self.real.verify(password_hash, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> SpyHasher:
    wrapped = SpyHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", wrapped)
    return wrapped


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        ("", "at least 12 characters"),
        ("x" * (MIN_LENGTH - 1), "at least 12 characters"),
        ("x" * (MAX_LENGTH + 1), "at most 256 characters"),
        ("tab\tinside-a-password", "control characters"),
        ("newline at the end\n", "control characters"),
        ("nul\x00character-here", "control characters"),
        ("delete\x7fcharacter!!", "control characters"),
        ("next-line\x85character", "control characters"),
        (" " * MIN_LENGTH, "only spaces"),
        (" " * MAX_LENGTH, "only spaces"),
        ("\u3000\u00a0" * 6, "only spaces"),  # ideographic and no-break spaces
    ],
)
def test_the_rule_refuses_with_a_message_naming_it(candidate: str, message: str) -> None:
    with pytest.raises(WeakPassword, match=message):
        check_password(candidate)


@pytest.mark.parametrize(
    "candidate",
    [
        "x" * MIN_LENGTH,
        "y" * MAX_LENGTH,
        "  spaces around are fine  ",
        "pässwörd mit ümlauten",
        "aaaaaaaaaaaa",  # length, not composition (NIST SP 800-63B)
    ],
)
def test_the_rule_accepts_length_not_composition(candidate: str) -> None:
    assert check_password(candidate) == candidate


def test_the_rule_messages_read_as_advice() -> None:
    with pytest.raises(WeakPassword) as short:
        check_password("short")
    assert str(short.value) == "a password needs at least 12 characters"
    with pytest.raises(WeakPassword) as long:
        check_password("z" * 300)
    assert str(long.value) == "a password has at most 256 characters"


def test_hash_then_verify_round_trip_with_the_real_parameters() -> None:
    stored = hash_password(GOOD_PASSWORD)
    assert stored.startswith("$argon2id$")
    assert GOOD_PASSWORD not in stored
    assert verify_password(stored, GOOD_PASSWORD) is True
    assert verify_password(stored, GOOD_PASSWORD + " ") is False
    assert verify_password(stored, GOOD_PASSWORD.upper()) is False
    assert needs_rehash(stored) is False
    assert needs_rehash(CHEAP.hash(GOOD_PASSWORD)) is True  # other parameters


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password(GOOD_PASSWORD), hash_password(GOOD_PASSWORD)
    assert first != second
    assert verify_password(first, GOOD_PASSWORD) and verify_password(second, GOOD_PASSWORD)


def test_hashing_enforces_the_rule() -> None:
    with pytest.raises(WeakPassword, match="at least 12"):
        hash_password("too short")


def test_unknown_user_is_false_but_still_verified_against_the_dummy(spy: SpyHasher) -> None:
    assert verify_password(None, GOOD_PASSWORD) is False
    assert verify_password("", GOOD_PASSWORD) is False
    # the same argon2 work as a wrong password for a real account: no "which e-mails exist"
    assert spy.verified == [passwords._DUMMY_HASH, passwords._DUMMY_HASH]


def test_a_malformed_hash_verifies_nothing() -> None:
    assert verify_password("not-an-argon2-hash", GOOD_PASSWORD) is False
    assert verify_password("$argon2id$v=19$m=65536,t=3,p=4$broken", GOOD_PASSWORD) is False


def test_very_long_input_is_false_without_hashing(spy: SpyHasher) -> None:
    stored = CHEAP.hash("y" * MAX_LENGTH)
    assert verify_password(stored, "y" * (MAX_LENGTH + 1)) is False
    assert verify_password(None, "x" * 1_000_000) is False
    assert spy.verified == []
    assert verify_password(stored, "y" * MAX_LENGTH) is True  # the limit itself is hashed
    assert spy.verified == [stored]


def test_generated_passwords_are_long_url_safe_unique_and_follow_the_rule() -> None:
    alphabet = set(string.ascii_letters + string.digits + "-_")
    made = [generate_password() for _ in range(200)]
    assert len(set(made)) == len(made)
    for value in made:
        assert len(value) == 16
        assert set(value) <= alphabet
        assert check_password(value) == value
