"""Reading a response: payerr.inspect against json.loads of the same bytes.

    python bench/parse.py

json.loads is the floor: a caller parses the body anyway. ``inspect().data`` is
reading the envelope and handing back the parsed data; ``inspect().error``
also builds the typed error (which ``inspect`` does only when it is asked for).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _server import USER_INFO
from _timing import interleaved, table

import payerr

ALIPAY = "https://openapi.alipay.com/gateway.do"
WECHAT = "https://api.weixin.qq.com/cgi-bin/user/info"
HUAWEI = "https://orders-drcn.iap.cloud.huawei.com.cn/applications/purchases/tokens/verify"
CMI = "https://gdschannel.cmlink.com:39043/aep/APP_queryCard_SBO/v1"
HEADERS = {
    "Content-Type": "application/json;charset=utf-8",
    "Server": "nginx",
    "Date": "Sat, 21 Nov 2026 10:00:00 GMT",
    "Connection": "keep-alive",
}

trade = {
    "code": "10000",
    "msg": "Success",
    "buyer_logon_id": "159****5620",
    "buyer_pay_amount": "88.88",
    "buyer_user_id": "2088102177846875",
    "fund_bill_list": [{"amount": "88.88", "fund_channel": "ALIPAYACCOUNT"}],
    "invoice_amount": "88.88",
    "out_trade_no": "20261121-000123",
    "point_amount": "0.00",
    "receipt_amount": "88.88",
    "send_pay_date": "2026-11-21 10:00:00",
    "total_amount": "88.88",
    "trade_no": "2026112122001446870501234567",
    "trade_status": "TRADE_SUCCESS",
}
CASES = {
    "alipay success": (ALIPAY, 200, {"alipay_trade_query_response": trade, "sign": "x" * 344}),
    "alipay error": (
        ALIPAY,
        200,
        {
            "alipay_trade_query_response": {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_NOT_EXIST",
                "sub_msg": "交易不存在",
                "out_trade_no": "20261121-000123",
            },
            "sign": "x" * 344,
        },
    ),
    "wechat success": (
        WECHAT,
        200,
        {**USER_INFO, "subscribe_scene": "ADD_SCENE_QR_CODE"},
    ),
    "wechat error": (
        WECHAT,
        200,
        {
            "errcode": 40001,
            "errmsg": "invalid credential, access_token is invalid or not latest "
            "rid: 630ecbee-28894bea-0ee8d49c",
        },
    ),
    "huawei success": (
        HUAWEI,
        200,
        {
            "responseCode": "0",
            "purchaseTokenData": json.dumps(
                {
                    "autoRenewing": False,
                    "orderId": "202611211000000123",
                    "packageName": "com.example",
                    "productId": "gems100",
                    "purchaseTime": 1763700000000,
                    "purchaseState": 0,
                    "purchaseToken": "00000173741056a37eef310dff9c6a86fec57efafe318ae4" * 2,
                }
            ),
            "dataSignature": "x" * 344,
            "signatureAlgorithm": "SHA256WithRSA/PSS",
        },
    ),
    "huawei error": (
        HUAWEI,
        200,
        {
            "responseCode": "1001880009",
            "responseMessage": "IAP_RESPONSE_RESULT_ITEM_CONSUMED_OR_ACKNED",
        },
    ),
    "cmi success": (
        CMI,
        200,
        {
            "code": "0000000",
            "description": "success",
            "iccid": "89860012345678901234",
            "status": "active",
            "packages": [{"packageId": "P7", "remaining": 1024}] * 3,
        },
    ),
    "cmi error": (CMI, 200, {"code": "9000004", "description": "超出QPS限制"}),
}


def main() -> int:
    payerr.explain("alipay", "10000")  # load the catalog before timing
    rows = []
    for name, (url, status, body) in CASES.items():
        raw_bytes = json.dumps(body, ensure_ascii=False).encode()
        response = payerr.RawResponse(status, HEADERS, raw_bytes, url, "POST")

        def floor(raw_bytes: bytes = raw_bytes) -> object:
            return json.loads(raw_bytes)

        def read(response: payerr.RawResponse = response) -> object:
            return payerr.inspect(response).data

        def typed(response: payerr.RawResponse = response) -> object:
            return payerr.inspect(response).error

        contenders = {"json.loads": floor, "data": read}
        if "error" in name:
            contenders["error"] = typed
        times = interleaved(contenders, number=2000)
        floor_time = times["json.loads"]
        error_time = times.get("error")
        rows.append(
            [
                name,
                f"{len(raw_bytes)} B",
                f"{floor_time * 1e6:.2f} µs",
                f"{times['data'] * 1e6:.2f} µs",
                f"{times['data'] / floor_time:.2f}×",
                "-" if error_time is None else f"{error_time * 1e6:.2f} µs",
                "-" if error_time is None else f"{error_time / floor_time:.2f}×",
            ]
        )
    header = ["body", "size", "json.loads", "inspect().data", "ratio", "inspect().error", "ratio"]
    print(table(header, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
