"""UnionPay's answer signature (5.1.0, signMethod 01), for the sandbox's form answers.

The gateway signs ``SHA-256 hex of "k=v&..." (keys sorted, signature left out)``
with SHA256withRSA and sends the signing certificate in ``signPubKeyCert`` (PEM,
CR LF line ends). The sandbox does the same with its platform key, in a
certificate it issues itself, so a client can verify the answer exactly as it
verifies the real one (``verify``).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Mapping
from typing import Any

from ._signing import Signer

_CERTS: weakref.WeakKeyDictionary[Signer, str] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def signed_text(fields: Mapping[str, Any]) -> bytes:
    """What is signed: the SHA-256 hex of every field but ``signature``, sorted, joined."""
    joined = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hashlib.sha256(joined.encode("utf-8")).hexdigest().encode()


def sign(fields: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """The answer with ``signMethod``, ``signPubKeyCert`` and ``signature``, keys sorted."""
    signed = {**fields, "signMethod": "01", "signPubKeyCert": certificate(signer)}
    signed["signature"] = signer.sign(signed_text(signed))
    return dict(sorted(signed.items()))


def certificate(signer: Signer) -> str:
    """A certificate for the sandbox's platform key (made once per sandbox), CR LF ends."""
    with _LOCK:
        found = _CERTS.get(signer)
        if found is None:
            found = _CERTS[signer] = _issue(signer.public_key_pem)
        return found


def _issue(public_key_pem: str) -> str:
    """An X.509 certificate holding the platform key, issued by a throwaway sandbox CA."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "payerr sandbox UnionPay")])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "payerr sandbox CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(serialization.load_pem_public_key(public_key_pem.encode()))  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(issuer_key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return pem.strip().replace("\n", "\r\n")


def verify(fields: Mapping[str, str]) -> bool:
    """Whether an answer's ``signature`` matches its fields under its ``signPubKeyCert``.

    What a client of the real gateway does (minus checking the certificate chain
    against UnionPay's root, which the sandbox's certificate does not chain to).
    """
    import base64

    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        cert = x509.load_pem_x509_certificate(fields["signPubKeyCert"].encode())
        key = cert.public_key()
        signature = base64.b64decode(fields["signature"], validate=True)
    except (KeyError, ValueError):
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature, signed_text(fields), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
