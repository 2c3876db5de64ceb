"""OpenTelemetry metrics and span events for payerr's retry loop (``pip install 'payerr[otel]'``).

    import payerr.otel
    payerr.otel.instrument()    # every Transport, AsyncTransport and RequestsAdapter

payerr imports OpenTelemetry only when this module is imported, and measures
nothing until ``instrument()`` sets the one process-wide hook the engine reports
to. The instruments and their attributes are listed on the "Metrics and
tracing" page of the documentation.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    from opentelemetry import metrics, trace
except ImportError as exc:  # pragma: no cover - the extra is installed for the tests
    raise ImportError(
        "payerr.otel needs the OpenTelemetry API: pip install 'payerr[otel]'"
    ) from exc

from ._engine import telemetry as _telemetry

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.util.types import Attributes

    from ._errors import PayError
    from ._retry.policy import Attempt

__all__ = ["instrument", "uninstrument"]

_Values = dict[str, str | bool | int | float]


def instrument(meter_provider: MeterProvider | None = None) -> None:
    """Report payerr's attempts, retries, errors, cooldown waits and token refreshes.

    The instruments come from ``meter_provider``, or from the global one (set
    with ``opentelemetry.metrics.set_meter_provider``, before or after this
    call). Retries are also added as ``payerr.retry`` events to the span that
    is current when the request is made. Calling it again replaces the meter.
    """
    _telemetry.hook = _Recorder(meter_provider)


def uninstrument() -> None:
    """Stop reporting: the retry loop goes back to doing nothing for telemetry."""
    _telemetry.hook = None


def _version() -> str:
    try:
        return version("payerr")
    except PackageNotFoundError:  # pragma: no cover - run from a bare source tree
        return "0"


def _error_values(error: PayError) -> _Values:
    """Who said what, and what payerr made of it: the attributes of an error or a retry."""
    values: _Values = {
        "payerr.provider": error.provider or "",
        "payerr.category": error.category.value,
        "payerr.hint": error.retry.value,
    }
    if error.code is not None:
        values["payerr.code"] = error.code
    if error.sub_code is not None:
        values["payerr.sub_code"] = error.sub_code
    return values


class _Recorder:
    """The hook ``instrument()`` installs: its instruments are made once, here."""

    def __init__(self, meter_provider: MeterProvider | None) -> None:
        meter = metrics.get_meter("payerr", _version(), meter_provider=meter_provider)
        self.attempts = meter.create_counter(
            "payerr.attempts",
            unit="{attempt}",
            description="Requests sent to a provider, retries included",
        )
        self.retries = meter.create_counter(
            "payerr.retries",
            unit="{retry}",
            description="Failed attempts payerr decided to send again",
        )
        self.errors = meter.create_counter(
            "payerr.errors",
            unit="{error}",
            description="Failed attempts, by provider, category, code and hint",
        )
        self.cooldown_wait = meter.create_histogram(
            "payerr.cooldown.wait",
            unit="s",
            description="Seconds a request waited for a provider cooldown",
        )
        self.refreshes = meter.create_counter(
            "payerr.token.refreshes",
            unit="{refresh}",
            description="Access tokens fetched by this process",
        )

    def answered(self, provider: str) -> None:
        self.attempts.add(1, {"payerr.provider": provider, "payerr.outcome": "ok"})

    def failed(self, error: PayError, retry: Attempt | None, sent: bool) -> None:
        values = _error_values(error)
        if sent:
            outcome = {"payerr.provider": values["payerr.provider"], "payerr.outcome": "error"}
            self.attempts.add(1, outcome)
        self.errors.add(1, values)
        if retry is not None:
            self.retries.add(1, values)
            _retry_event(values, retry)

    def waited(self, provider: str, seconds: float) -> None:
        self.cooldown_wait.record(seconds, {"payerr.provider": provider})

    def refreshed(self, provider: str, error: PayError | None) -> None:
        values: _Values = {"payerr.provider": provider}
        if error is not None and error.code is not None:
            values["payerr.code"] = error.code
        self.refreshes.add(1, values)


def _retry_event(values: _Values, retry: Attempt) -> None:
    """A ``payerr.retry`` event on the caller's span: where in a trace the time went."""
    span = trace.get_current_span()
    if not span.is_recording():
        return
    event: Attributes = {
        **values,
        "payerr.attempt": retry.number,
        "payerr.delay": retry.delay,
        "payerr.refresh": retry.refresh,
    }
    span.add_event("payerr.retry", event)
