"""Roles of a firm's staff and what each may do.

``viewer`` reads; ``operator`` also starts, cancels and re-syncs runs; ``admin`` also
manages the firm's users, API tokens and client master. Each role includes the ones
below it, so a check is one comparison.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Permission(IntEnum):
    """What a page or action needs; the value is the least role rank that has it."""

    READ = 0
    RUN = 1  # start, cancel, re-sync
    MANAGE = 2  # users, API tokens, client master (import, edit)


_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}

PERMISSION_WORDS = {
    Permission.READ: "read",
    Permission.RUN: "start, cancel or re-sync syncs",
    Permission.MANAGE: "manage users and the client master",
}


def allows(role: Role | str, permission: Permission) -> bool:
    return _RANK[Role(role)] >= permission.value


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        known = ", ".join(role.value for role in Role)
        raise ValueError(f"unknown role {text!r}; roles: {known}") from None
