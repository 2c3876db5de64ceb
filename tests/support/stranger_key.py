"""A public key that is not the sandbox's: every answer it signs fails the SDK's check."""

from __future__ import annotations

from functools import cache


@cache
def stranger_public_key() -> str:
    """PEM of a fresh RSA key, made once per test process (making one takes a moment)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()
