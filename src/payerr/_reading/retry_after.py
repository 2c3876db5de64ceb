"""How long a provider asked us to wait: ``Retry-After`` and quota windows."""

from __future__ import annotations

import math
from collections.abc import Mapping


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP-date).

    Negative, infinite and unparsable values are ignored, as if absent.
    """
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        seconds = _number(milliseconds)
        if seconds is not None:
            return seconds / 1000.0
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return seconds
    from email.utils import parsedate_to_datetime  # only HTTP-dates need it

    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _number(value: str) -> float | None:
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def window_wait(window: str | None, now: float, day_reset: int = 0) -> float | None:
    """Seconds until a provider quota window resets (the next minute, the next day).

    ``day_reset`` shifts the day to the provider's own (its adapter's ``day_reset``,
    e.g. midnight China Standard Time); 0 is midnight UTC.
    """
    if window == "second":
        return 1.0 - (now % 1.0)
    if window == "minute":
        return 60.0 - (now % 60.0)
    if window == "day":
        return 86400.0 - ((now + day_reset) % 86400.0)
    return None
