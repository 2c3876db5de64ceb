"""What the tests share: loopback servers, a Redis server, worker processes, real payloads.

- ``loopback``: a scripted HTTP server on a free 127.0.0.1 port.
- ``faultserver``: a raw-socket server that misbehaves on purpose (resets, drips, stalls).
- ``rawserver``: a raw-socket server that sends exactly the bytes a test gives it.
- ``redis_server``: a real redis-server on a free port, started and stopped by a test.
- ``workers``, ``provider_workers``: functions run in spawned worker processes.
- ``memcached_like``: a memcached-style client over Redis, for wechatpy's MemcachedStorage.
- ``aiohttp_client``: how the shared suites drive aiohttp as a fourth client.
- ``payloads``: real provider answers, each citing its source.
- ``stranger_key``: a signing key no provider uses, for wrongly signed answers.
"""
