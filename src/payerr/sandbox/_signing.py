"""Signatures on the sandbox's answers, so SDKs that verify them run unchanged.

Alipay signs the inner ``*_response`` node (RSA2: SHA256withRSA, base64);
WeChat Pay v3 signs ``timestamp\\nnonce\\nbody\\n`` and sends the signature in
``Wechatpay-*`` headers. One key pair serves both, generated per sandbox:
``cryptography`` is needed only when signing is asked for.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

WECHATPAY_PUBLIC_KEY_ID = "PUB_KEY_ID_0100SANDBOX"
"""What the sandbox puts in ``Wechatpay-Serial``: pass it as wechatpayv3's ``public_key_id``."""


class Signer:
    """The sandbox's platform key (answers) and a client key to hand to the SDKs."""

    def __init__(self) -> None:
        try:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
        except ImportError as exc:  # pragma: no cover - cryptography ships with the test extra
            raise ImportError(
                "Sandbox(signing=True) needs the cryptography package: pip install cryptography"
            ) from exc
        self._platform = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        client = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key_pem = (
            self._platform.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        pem, none = serialization.Encoding.PEM, serialization.NoEncryption()
        self.merchant_private_key_pem = client.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, none
        ).decode()
        """PKCS#8, as WeChat Pay issues ``apiclient_key.pem``."""
        self.app_private_key_pem = client.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, none
        ).decode()
        """The same key as PKCS#1, as Alipay's key tool gives an app private key."""

    def sign(self, message: bytes) -> str:
        """SHA256withRSA (PKCS#1 v1.5), base64: what both providers use."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self._platform.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def wechatpay_headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16).upper()
        signed = b"%s\n%s\n%s\n" % (timestamp.encode(), nonce.encode(), body)
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": WECHATPAY_PUBLIC_KEY_ID,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Signature": self.sign(signed),
        }


def alipay_body(key: str, node: dict[str, Any], signer: Signer | None) -> bytes:
    """``{"<key>":{node},"sign":"…"}`` with the signature over the node's exact text."""
    import json

    inner = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
    sign = signer.sign(inner.encode()) if signer is not None else "sandbox"
    return f'{{"{key}":{inner},"sign":"{sign}"}}'.encode()
