from __future__ import annotations

import pytest

from syncbucket.crypto import (
    CredentialCipher,
    DecryptionFailed,
    PortalCredentials,
    generate_secret_key,
)

KEY_A = "a" * 32 + "-first-key"
KEY_B = "b" * 32 + "-second-key"
CREDS = PortalCredentials(user_id="DELA12345B", password="Top$ecret-pw")


def test_round_trip_and_ciphertext_hides_both_fields() -> None:
    cipher = CredentialCipher(KEY_A)
    token = cipher.encrypt(CREDS)
    assert "DELA12345B" not in token and "Top$ecret-pw" not in token
    assert cipher.decrypt(token) == CREDS
    assert cipher.encrypt(CREDS) != token  # random IV: equal secrets do not look equal


def test_key_rotation_decrypts_old_and_encrypts_with_new() -> None:
    old_token = CredentialCipher(KEY_A).encrypt(CREDS)
    rotated = CredentialCipher(KEY_B, KEY_A)
    assert rotated.decrypt(old_token) == CREDS
    new_token = rotated.encrypt(CREDS)
    assert CredentialCipher(KEY_B).decrypt(new_token) == CREDS
    with pytest.raises(DecryptionFailed):
        CredentialCipher(KEY_A).decrypt(new_token)


def test_wrong_key_raises_decryption_failed_without_chained_cause() -> None:
    token = CredentialCipher(KEY_A).encrypt(CREDS)
    with pytest.raises(DecryptionFailed, match="SYNCBUCKET_SECRET_KEY differs") as info:
        CredentialCipher(KEY_B).decrypt(token)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(DecryptionFailed):
        CredentialCipher(KEY_A).decrypt("not-a-token")


def test_bytes_round_trip() -> None:
    cipher = CredentialCipher(KEY_A)
    assert cipher.decrypt_bytes(cipher.encrypt_bytes(b"session")) == b"session"
    with pytest.raises(DecryptionFailed):
        CredentialCipher(KEY_B).decrypt_bytes(cipher.encrypt_bytes(b"session"))


def test_credentials_never_in_repr_or_str() -> None:
    for text in (repr(CREDS), str(CREDS), f"{CREDS}", repr([CREDS]), repr({"t": CREDS})):
        assert "Top$ecret-pw" not in text and "DELA12345B" not in text
    assert "***" in repr(CREDS)
    assert KEY_A not in repr(CredentialCipher(KEY_A))


def test_generated_keys_are_long_and_distinct() -> None:
    keys = {generate_secret_key() for _ in range(5)}
    assert len(keys) == 5 and all(len(k) >= 32 for k in keys)
