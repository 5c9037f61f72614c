"""Passwords: argon2id hashes (argon2-cffi's defaults), the rule, one-time passwords.

The rule is length, not composition (NIST SP 800-63B): at least 12 characters, at most
256, no control characters. A one-time password is 16 random URL-safe characters; the
user must choose their own at the first sign-in.
"""

from __future__ import annotations

import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from syncbucket.accounts.errors import WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that answer takes as long as a wrong
# password for a real account (no timing oracle for "which e-mails exist").
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def check_password(password: str) -> str:
    """The password if it follows the rule; :class:`WeakPassword` naming the rule if not."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if any(unicodedata.category(char) == "Cc" for char in password):
        raise WeakPassword("a password cannot contain control characters (tabs, newlines...)")
    if not password.strip():
        raise WeakPassword("a password cannot be only spaces")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """``True`` when ``password`` matches; ``password_hash`` None = unknown user (still slow)."""
    if len(password) > MAX_LENGTH:
        return False  # never hash a megabyte someone pasted in
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits
