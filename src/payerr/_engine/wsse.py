"""CMI's WSSE authentication headers, which every CMI request carries."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time


def wsse_digest(nonce: str, created: str, secret: str) -> str:
    """CMI's PasswordDigest: Base64(SHA256(Nonce + Created + AppSecret))."""
    return base64.b64encode(hashlib.sha256(f"{nonce}{created}{secret}".encode()).digest()).decode()


def wsse_headers(app_key: str, app_secret: str, *, now: float | None = None) -> dict[str, str]:
    """Fresh ``Authorization`` and ``X-WSSE`` headers (new Nonce, ``Created`` = now, UTC).

    CMI accepts ``Created`` for 10 minutes: build them per request, never reuse.
    """
    nonce = secrets.token_hex(8)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    digest = wsse_digest(nonce, created, app_secret)
    return {
        "Authorization": 'WSSE realm="SDP", profile="UsernameToken", type="Appkey"',
        "X-WSSE": f'UsernameToken Username="{app_key}", PasswordDigest="{digest}", '
        f'Nonce="{nonce}", Created="{created}"',
    }
