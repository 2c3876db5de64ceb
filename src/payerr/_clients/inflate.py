"""Content-Encoding undone with a bound inside every decoder, on every path.

A few hundred compressed bytes can describe gigabytes, so no decoder here is
ever asked for more than ``STEP`` bytes at a time: zlib through ``max_length``
and ``unconsumed_tail``, brotli through ``output_buffer_limit`` (brotli >= 1.2),
zstd through ``max_length`` (``compression.zstd`` on Python 3.14, the
``backports.zstd`` package before it). A library without such a limit is not
used at all: its coding is left undecoded rather than decoded unbounded.
Stacked codings (``gzip, br``) run as one pipeline, so every intermediate stage
holds at most one step too. Every limit passes through ``_limit``: "no limit"
cannot be reached by arithmetic.
"""

from __future__ import annotations

import sys
import zlib
from collections import deque
from typing import Any

STEP = 64 * 1024
"""Decoded bytes asked of a decoder at a time: no call ever returns more."""
BROTLI_ASK = 32 * 1024
"""What brotli is asked for at a time; it answers with at most 32,752 bytes."""
INNER_STEP = 16 * 1024
"""What an inner stage of a stack hands on at a time, and what a whole body is decoded in:
small, since a decoder briefly holds twice what it returns (its buffers, then the bytes),
and the next stage keeps a copy of what it has not consumed yet."""
MAX_CODINGS = 5
"""More stacked codings than this is an attack, not an answer (urllib3 draws the same line)."""
ZSTD_WINDOW_LOG = 23
"""RFC 9659: a zstd Content-Encoding never needs a window over 8 MiB; a frame asking for
more is refused, which also bounds the decoder's own memory."""


class BodyDecodeError(ValueError):
    """The body's Content-Encoding does not decode (a broken gzip, say)."""


def _limit(limit: int) -> int:
    """A decoder's output bound: at least 1, at most STEP, whatever the caller computed."""
    return STEP if limit > STEP else max(1, limit)


def codings(header: str | None) -> list[str]:
    """The content codings to undo, last applied first (``gzip, br`` → br, then gzip)."""
    if not header:
        return []
    names = [part.strip().lower() for part in header.split(",")]
    return [name for name in reversed(names) if name and name != "identity"]


def _brotli() -> Any:
    """A brotli module whose decompressor takes an output limit, or None."""
    for name in ("brotli", "brotlicffi"):
        try:
            module = __import__(name)
            probe = module.Decompressor()
            probe.process(b"", output_buffer_limit=1)
            probe.can_accept_more_data()
        except (ImportError, TypeError, AttributeError):
            continue
        except Exception:  # the probe itself failed: this build cannot be trusted either
            continue
        return module
    return None


def _zstd() -> Any:
    """A zstd module whose decompressor takes ``max_length``, or None."""
    try:
        if sys.version_info >= (3, 14):
            from compression import zstd  # type: ignore[import-not-found,unused-ignore]
        else:
            from backports import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return zstd


_modules: dict[str, Any] = {}


def _module(coding: str) -> Any:
    if coding not in _modules:
        _modules[coding] = _brotli() if coding == "br" else _zstd()
    return _modules[coding]


class Decoder:
    """One coding, decoded incrementally; every call returns at most ``limit`` bytes."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._obj: Any = None
        self._module: Any = None
        self._held = b""
        """Output a decoder gave past the limit (brotli's rounding), handed out first."""
        if coding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            pass  # zlib-wrapped or raw: decided on the first bytes
        elif coding in ("br", "zstd"):
            self._module = _module(coding)
            if self._module is None:
                raise LookupError(f"no bounded {coding} decoder installed")
            self._obj = self._new()
        else:
            raise LookupError(coding)

    def _new(self) -> Any:
        if self.coding == "br":
            return self._module.Decompressor()
        zstd = self._module
        window = {zstd.DecompressionParameter.window_log_max: ZSTD_WINDOW_LOG}
        return zstd.ZstdDecompressor(options=window)

    def decode(self, data: bytes, limit: int) -> bytes:
        """Up to ``limit`` decoded bytes of ``data`` (more may be pending: see ``more``)."""
        limit = _limit(limit)
        try:
            if self.coding == "deflate" and self._obj is None:
                wrapped = data[:1] and (data[0] & 0x0F) == 8
                self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            if self.coding == "br":
                return self._brotli(data, limit)
            if self.coding == "zstd":
                return self._zstd(data, limit)
            return bytes(self._obj.decompress(data, limit))
        except BodyDecodeError:
            raise
        except Exception as exc:  # zlib.error, brotli.error, ZstdError: all one thing here
            raise BodyDecodeError(f"{self.coding} body does not decode: {exc}") from exc

    def _brotli(self, data: bytes, limit: int) -> bytes:
        """brotli rounds its output limit up to its own buffer sizes (32,752 bytes for any
        limit up to that): it is asked for the smallest, and what passes ``limit`` is
        held here for the next call."""
        out = bytes(self._obj.process(data, output_buffer_limit=BROTLI_ASK))
        self._held = out[limit:]
        return out[:limit]

    def _zstd(self, data: bytes, limit: int) -> bytes:
        """zstd, frame after frame (a body may hold several), never past ``limit``."""
        obj = self._obj
        if obj.eof:
            data = obj.unused_data + data
            if not data:
                return b""
            obj = self._obj = self._new()
        return bytes(obj.decompress(data, max_length=limit))

    def more(self, limit: int) -> bytes:
        """Output still held back by an earlier ``limit``."""
        obj = self._obj
        if obj is None:
            return b""
        if self._held:
            limit = _limit(limit)
            out, self._held = self._held[:limit], self._held[limit:]
            return out
        if self.coding == "br":
            return b"" if obj.can_accept_more_data() else self.decode(b"", limit)
        if self.coding == "zstd":
            pending = (not obj.eof and not obj.needs_input) or (obj.eof and obj.unused_data)
            return self.decode(b"", limit) if pending else b""
        tail = obj.unconsumed_tail
        return self.decode(tail, limit) if tail else b""


class Pipeline:
    """Stacked decoders fed raw chunks; ``read`` pulls at most ``limit`` decoded bytes.

    Each stage pulls one step from the stage before only when it has nothing
    left to give, so no stage ever holds more than one step of output.
    """

    def __init__(self, decoders: list[Decoder]) -> None:
        self.decoders = decoders
        self._raw: deque[bytes] = deque()

    def feed(self, chunk: bytes) -> None:
        if chunk:
            self._raw.append(chunk)

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` decoded bytes; b"" once everything fed so far is decoded."""
        return self._out(len(self.decoders) - 1, limit)

    def _out(self, stage: int, limit: int) -> bytes:
        decoder = self.decoders[stage]
        while True:
            piece = decoder.more(limit)
            if piece:
                return piece
            data = self._input(stage)
            if not data:
                return b""
            piece = decoder.decode(data, limit)
            if piece:
                return piece

    def _input(self, stage: int) -> bytes:
        if stage == 0:
            return self._raw.popleft() if self._raw else b""
        return self._out(stage - 1, INNER_STEP)


def decoders_for(header: str | None) -> list[Decoder] | None:
    """The decoders for a Content-Encoding; None when one of its codings cannot be undone
    here (unknown, or no bounded decoder installed): the body is then left as it is."""
    found = []
    names = codings(header)
    if len(names) > MAX_CODINGS:
        return None
    for coding in names:
        try:
            found.append(Decoder(coding))
        except (LookupError, ImportError):
            return None
    return found


def pipeline(header: str | None) -> Pipeline | None:
    """A pipeline for a Content-Encoding, or None when there is nothing (able) to decode."""
    decoders = decoders_for(header)
    return Pipeline(decoders) if decoders else None


def decode_bounded(header: str | None, raw: bytes | list[bytes], cap: int) -> bytes | None:
    """The decoded body, or None when it would pass ``cap`` bytes; raises BodyDecodeError.

    At most ``cap`` + one step of decoded output is ever held: decoding stops
    as soon as the cap is passed, the rest of the bomb never inflated.
    """
    if not header:  # nothing to undo (most answers): no pipeline to build
        return raw if isinstance(raw, bytes) else b"".join(raw)
    chunks = [raw] if isinstance(raw, bytes) else raw
    flow = pipeline(header)
    if flow is None:
        return b"".join(chunks)
    for chunk in chunks:
        flow.feed(chunk)
    out: list[bytes] = []
    size = 0
    while piece := flow.read(min(cap + 1 - size, INNER_STEP)):
        out.append(piece)
        size += len(piece)
        if size > cap:
            return None
    return b"".join(out)


def decode_head(header: str | None, head: bytes, size: int = 4096) -> bytes | None:
    """The first ``size`` decoded bytes of a body, or None when they cannot be told."""
    try:
        flow = pipeline(header)
        if flow is None:
            return head
        flow.feed(head)
        return flow.read(size)
    except BodyDecodeError:
        return None
