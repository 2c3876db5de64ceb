"""A minimal keep-alive HTTP server for benchmarks: every request gets one WeChat success.

Run as a separate process so the client under test has a core to itself:
    python bench/_server.py   → prints the port, serves until killed
"""

from __future__ import annotations

import asyncio
import json
import sys

USER_INFO = {
    "subscribe": 1,
    "openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
    "language": "zh_CN",
    "subscribe_time": 1382694957,
    "unionid": "o6_bmasdasdsad6_2sgVt7hMZOPfL",
    "remark": "",
    "groupid": 0,
    "tagid_list": [128, 2],
}
"""A WeChat user-info success: what every benchmark request gets back."""
BODY = json.dumps(USER_INFO).encode()
BIG_PATH = b"/cgi-bin/user/info/batchget"
"""Requests for this path get a 500 KiB batch of users, Chinese nicknames and all."""


def _batch(size: int) -> bytes:
    users, total = [], 0
    while total < size:
        user = {**USER_INFO, "nickname": f"微信用户{len(users)}", "city": "深圳", "remark": "备注"}
        users.append(user)
        total += len(json.dumps(user, ensure_ascii=False).encode()) + 1
    return json.dumps({"user_info_list": users}, ensure_ascii=False).encode()


BIG_BODY = _batch(500 * 1024)


def _response(body: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n%s" % (len(body), body)
    )


RESPONSE, BIG_RESPONSE = _response(BODY), _response(BIG_BODY)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            big = BIG_PATH in head[: head.find(b"\r\n")]
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            writer.write(BIG_RESPONSE if big else RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
