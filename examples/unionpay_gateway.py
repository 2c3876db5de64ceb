"""UnionPay online gateway (5.1.0) through payerr and httpx: sign, send, verify, query.

No maintained UnionPay SDK is on PyPI, so this is the recipe of docs/unionpay.md:
your code signs the request and verifies the answer; payerr reads the form answer,
retries only what UnionPay says did not run (02, 06), and raises QUERY_FIRST for a
consumption that met 03/04/05 or a timeout, which is then queried, never resent.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Mapping

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

import payerr
from payerr.sandbox import Sandbox

GATEWAY = "https://gateway.test.95516.com/gateway/api"  # production: gateway.95516.com
QUERY_WAITS = (1, 2, 4, 8, 16, 32)  # UnionPay's demo: at most 6 queries, doubling


def digest(fields: Mapping[str, str]) -> bytes:
    """5.1.0 signs the SHA-256 hex of ``k=v&...`` (keys sorted, signature left out)."""
    joined = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "signature")
    return hashlib.sha256(joined.encode()).hexdigest().encode()


def sign(fields: dict[str, str], private_key_pem: str, cert_id: str) -> dict[str, str]:
    """The request with certId and signature (the key comes from your .pfx in production)."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    fields = {**fields, "certId": cert_id, "signMethod": "01", "version": "5.1.0"}
    signature = key.sign(digest(fields), padding.PKCS1v15(), hashes.SHA256())
    return {**fields, "signature": base64.b64encode(signature).decode()}


def verified(response: httpx.Response) -> dict[str, str]:
    """The answer's fields, after checking its signature against its signPubKeyCert.

    In production also check that the certificate chains to UnionPay's root and
    middle certificates (acp_prod_root.cer, acp_prod_middle.cer).
    """
    fields = payerr.inspect(response).data or {}
    cert = x509.load_pem_x509_certificate(fields["signPubKeyCert"].encode())
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    signature = base64.b64decode(fields["signature"])
    try:
        key.verify(signature, digest(fields), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise ValueError("forged or damaged UnionPay answer") from None
    return fields


def query(client: httpx.Client, order: dict[str, str], key: str, wait: float) -> str:
    """The original transaction's result: 00 paid; a failure is raised as its typed error."""
    form = {k: order[k] for k in ("merId", "orderId", "txnTime")}
    form.update(txnType="00", txnSubType="00", bizType="000000", accessType="0")
    for delay in QUERY_WAITS:
        try:
            answer = verified(client.post(f"{GATEWAY}/queryTrans.do", data=sign(form, key, "1")))
            return answer["origRespCode"]
        except payerr.PendingError:  # the original is still 03/04/05: keep querying
            time.sleep(delay * wait)
    raise TimeoutError("still unknown: go by tomorrow's reconciliation file")


with Sandbox(signing=True) as sandbox:
    merchant_key = sandbox.merchant_private_key_pem
    client = httpx.Client(transport=sandbox.httpx_transport())  # payerr.Transport() in production
    order = {
        "txnType": "01",
        "txnSubType": "01",
        "bizType": "000201",
        "channelType": "07",
        "accessType": "0",
        "merId": "777290058110048",
        "orderId": "U-1",
        "txnTime": time.strftime("%Y%m%d%H%M%S"),
        "txnAmt": "990",
        "currencyCode": "156",
    }
    sandbox.script("unionpay.consume", ["03!"])  # charged, then the gateway said 03
    sandbox.script("unionpay.query", ["06", "ok"])  # busy once: a query is simply asked again
    try:
        verified(client.post(f"{GATEWAY}/backTransReq.do", data=sign(order, merchant_key, "1")))
    except payerr.UnionPayError as error:
        sent = sandbox.ledger.requests("orderId", "U-1")
        print(f"consume: {error.code} -> {error.retry.value}, sent {sent} time(s)")
        if error.retry is payerr.RetryHint.QUERY_FIRST:
            print("query:", query(client, order, merchant_key, wait=0.01))
