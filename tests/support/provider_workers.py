"""Functions run in spawned worker processes by test_providers_as_data (importable by name)."""

from __future__ import annotations

from typing import Any

import httpx
import requests

import payerr
from payerr._errors import CATEGORY_CLASSES, as_client_error, error_class


def errors_of_loaded_provider(adapter: str) -> list[payerr.PayError]:
    """Load a provider from its file, then one error of every kind payerr makes for it."""
    name = payerr.load_adapter(adapter, replace_existing=True).name
    errors = [error_class(category, name)("m", provider=name) for category in payerr.Category]
    clients: list[tuple[payerr.Category, type[BaseException]]] = [
        (payerr.Category.NETWORK, httpx.ConnectError),
        (payerr.Category.OUTCOME_UNKNOWN, httpx.ReadTimeout),
        (payerr.Category.MALFORMED, httpx.DecodingError),
        (payerr.Category.NETWORK, requests.ConnectionError),
        (payerr.Category.OUTCOME_UNKNOWN, requests.ReadTimeout),
    ]
    for category, client in clients:
        plain = error_class(category, name)("no answer", provider=name)
        errors.append(as_client_error(plain, client, None))
    answer = payerr.RawResponse(402, {}, b'{"error":{"code":"card_declined"}}', f"https://{name}")
    built = payerr.inspect(answer, provider=name).error
    assert built is not None
    return [*errors, built]


def raise_error_of_loaded_provider(adapter: str, index: int) -> None:
    raise errors_of_loaded_provider(adapter)[index]


def describe(errors: list[payerr.PayError]) -> list[tuple[Any, ...]]:
    """What a process that never loaded the provider sees of its errors."""
    return [
        (
            type(error).__name__,
            error.category.value,
            error.provider,
            isinstance(error, payerr.PayError),
            isinstance(error, CATEGORY_CLASSES[error.category]),
            [cls.__name__ for cls in type(error).__mro__],
            error.message,
        )
        for error in errors
    ]
