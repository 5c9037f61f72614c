"""The signature that proves which firm a sync request comes from (docs/events.md).

``signature`` (a CloudEvents extension attribute) is ``sha256=`` + the lowercase hex
HMAC-SHA256, keyed with the firm's integration secret, of the event's canonical form:
the whole event minus ``signature``, as JSON with keys sorted at every level, no
whitespace, UTF-8, non-ASCII characters as themselves. For the values a request carries
(strings, integers, booleans, null, arrays, objects) that is exactly RFC 8785 (JCS), so
any language can produce it. Signing the whole event -- not only ``data`` -- binds the
``id``, ``source`` and ``firmid`` too: a signed request cannot be re-addressed to
another firm or replayed under a new id without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

SIGNATURE_ATTRIBUTE = "signature"
FIRM_ATTRIBUTE = "firmid"
SCHEME = "sha256="


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    unsigned = {key: value for key, value in event.items() if key != SIGNATURE_ATTRIBUTE}
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def signature_for(event: Mapping[str, Any], secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), canonical_bytes(event), hashlib.sha256)
    return SCHEME + digest.hexdigest()


def sign(event: Mapping[str, Any], secret: str) -> dict[str, Any]:
    """A copy of ``event`` with its ``signature`` attribute set."""
    signed = dict(event)
    signed[SIGNATURE_ATTRIBUTE] = signature_for(event, secret)
    return signed


def verify(event: Mapping[str, Any], secrets: Iterable[str]) -> bool:
    """``True`` if ``event``'s signature matches one of ``secrets`` (constant-time)."""
    given = event.get(SIGNATURE_ATTRIBUTE)
    if not isinstance(given, str) or not given.startswith(SCHEME):
        return False
    matched = False
    for secret in secrets:  # every secret is tried: the time taken says nothing
        matched |= hmac.compare_digest(given, signature_for(event, secret))
    return matched
