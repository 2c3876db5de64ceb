"""The client seams: the only modules that import httpx, requests or aiohttp.

Reading a body with a bound, decoding it with a bound, the deadline over the head, then each
client's middleware driving the engine.

- ``bodies``: at most ``body_cap`` bytes read, raw and decoded, and all of it handed back.
- ``inflate``: Content-Encoding undone with a bound inside every decoder (zlib, brotli, zstd).
- ``handover``: one parse per body: a client's ``json()`` gets the object payerr parsed.
- ``httpx_head``: the call's deadline over httpx's connect and head reads.
- ``requests_head``: the call's deadline over urllib3's head reads (a watchdog thread).
- ``httpx_transport``: ``Transport`` and ``AsyncTransport`` for httpx.
- ``requests_adapter``: ``RequestsAdapter``, an ``HTTPAdapter`` for requests.
- ``aiohttp_middleware``: ``AiohttpMiddleware``, a client middleware for aiohttp >= 3.14.1.
"""
