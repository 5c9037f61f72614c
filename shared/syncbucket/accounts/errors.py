"""Errors of the accounts package; each message says what is wrong and what to do."""

from __future__ import annotations


class AccountError(Exception):
    """Base class: a request about users or sessions that cannot be carried out."""


class InvalidEmail(AccountError):
    pass


class UserExists(AccountError):
    pass


class UserNotFound(AccountError):
    pass


class WeakPassword(AccountError):
    """The password breaks the rule (:func:`syncbucket.accounts.passwords.check_password`)."""


class WrongPassword(AccountError):
    """The current password given to change it is not the user's."""
