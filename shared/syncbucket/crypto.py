"""Credential encryption at rest.

``SYNCBUCKET_SECRET_KEY`` is any string of 32+ characters; a Fernet key is derived from it
with HKDF-SHA256 so operators need not produce base64 keys by hand. Older keys may be
listed for rotation: decrypt tries each, encrypt always uses the first.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_HKDF_INFO = b"syncbucket credential encryption v1"


class DecryptionFailed(Exception):
    """Stored credentials cannot be decrypted with the configured key(s)."""


@dataclass(frozen=True)
class PortalCredentials:
    """A user id and password for one portal. Never printed: repr hides both."""

    user_id: str = field(repr=False)
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return "PortalCredentials(user_id=***, password=***)"

    __str__ = __repr__


def generate_secret_key() -> str:
    return secrets.token_urlsafe(48)


def _derive_fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


class CredentialCipher:
    def __init__(self, secret_key: str, *old_keys: str) -> None:
        self._fernet = MultiFernet([_derive_fernet(k) for k in (secret_key, *old_keys)])

    def __repr__(self) -> str:
        return "CredentialCipher(***)"

    def encrypt(self, credentials: PortalCredentials) -> str:
        plain = json.dumps({"u": credentials.user_id, "p": credentials.password})
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> PortalCredentials:
        try:
            body = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError):
            raise DecryptionFailed(
                "stored credentials cannot be decrypted: SYNCBUCKET_SECRET_KEY differs from "
                "the key they were saved with"
            ) from None
        return PortalCredentials(user_id=body["u"], password=body["p"])

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def decrypt_bytes(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise DecryptionFailed(
                "encrypted blob cannot be decrypted with the configured key"
            ) from None
