"""The simulator's account rule: every well-formed TAN has an account on both portals.

``seed-demo`` uses the same rule to store credentials the simulator accepts. These are
demo passwords for a simulator, not secrets: they protect nothing real.
"""

from __future__ import annotations

import hashlib

from syncbucket.domain.portals import Portal


def demo_user_id(portal: Portal | str, tan: str) -> str:
    del portal  # both portals use the TAN as the deductor's user id
    return tan.upper()


def demo_password(portal: Portal | str, tan: str) -> str:
    digest = hashlib.sha256(f"syncbucket-sim:{Portal(portal).value}:{tan.upper()}".encode())
    return f"Sim@{digest.hexdigest()[:10]}"


def wrong_password(portal: Portal | str, tan: str) -> str:
    return demo_password(portal, tan) + "-wrong"
