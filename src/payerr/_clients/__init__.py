"""The client seams: the only modules that import httpx, requests or aiohttp.

Reading a body with a bound, decoding it with a bound, the deadline over the head, then each
client's middleware driving the engine.

- ``bounds``: what bounded reading shares: what a head declares (length, coding, file), the limits.
- ``bodies``: httpx: at most ``body_cap`` bytes read, raw and decoded, and all of it handed back.
- ``requests_bodies``: the same for requests: urllib3's ``raw`` replayed by ``ReplayRaw``.
- ``inflate``: Content-Encoding undone with a bound inside every decoder (zlib, brotli, zstd).
- ``edits``: a credentials ``TokenEdit`` (query, header, JSON field) applied to a request.
- ``raw_httpx``: an ``httpx.Response`` as a client-neutral ``RawResponse`` for ``inspect``.
- ``handover``: one parse per body: a client's ``json()`` gets the object payerr parsed.
- ``httpx_head``: the call's deadline over httpx's connect and head reads.
- ``httpx_streams``: httpcore's backend and streams, each wait clamped to that deadline.
- ``requests_head``: the call's deadline over urllib3's head reads (a watchdog thread).
- ``options``: the keywords every client's middleware is made with, declared once.
- ``httpx_transport``: ``Transport`` and ``AsyncTransport`` for httpx.
- ``requests_adapter``: ``RequestsAdapter``, an ``HTTPAdapter`` for requests.
- ``aiohttp_reading``: an aiohttp answer looked at or read and given back; its ``json()``.
- ``aiohttp_middleware``: ``AiohttpMiddleware``, a client middleware for aiohttp >= 3.14.1.
"""
