"""Credentials: who owns the token, and a gate so one refresh serves every request.

WeChat voids the old token when a new one is fetched, so fifty requests that
all see ``40001`` must cause one fetch, not fifty that undo each other. The
gate counts refreshes: a request that failed with a token older than the
latest refresh is simply sent again with the current one.
"""

from __future__ import annotations

import inspect
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, cast, runtime_checkable

from .._coordination.local import Coordinator, Fetch
from .._errors import PayError
from .._values import Frozen
from . import telemetry as _telemetry
from .engine import REFRESHING

if TYPE_CHECKING:
    from concurrent.futures import Future

R = TypeVar("R")
_FETCHES: set[Any] = set()
"""Token fetches still running for waiters after their own request was cancelled."""


@runtime_checkable
class Credentials(Protocol):
    """Owns a token: puts it on requests, renews it when the provider rejects it."""

    def apply(self, request: R) -> R:
        """The request (httpx.Request or requests.PreparedRequest) carrying the current token."""
        ...

    def refresh(self, error: PayError | None) -> Awaitable[None] | None:
        """Renew the token (a coroutine for the async transport); ``error`` says why."""
        ...


class RefreshGate:
    """Single-flight refreshes for one credentials object, counted by generation.

    One refresh at a time across every thread and event loop that shares the
    credentials: the first request to ask fetches, the others wait on the same
    ``concurrent.futures.Future`` (awaited on any asyncio or trio loop). The
    generation is the coordinator's: with a ``RedisCoordinator`` it is shared
    by every process, so a worker whose request failed on a token another
    worker already replaced simply adopts the new one.
    """

    def __init__(self, credentials: Credentials, coordinator: Coordinator) -> None:
        self.credentials = credentials
        self.coordinator = coordinator
        self.generation = 0
        self.refreshes = 0
        self._lock = threading.Lock()
        self._flight: Future[None] | None = None

    @property
    def shares_token(self) -> bool:
        """Tokens can only be shared by credentials that expose them (``.token``)."""
        return hasattr(self.credentials, "token")

    def needs_first_fetch(self) -> bool:
        return getattr(self.credentials, "ready", True) is False

    def _adopt(self, token: str, generation: int) -> None:
        if getattr(self.credentials, "token", None) != token:
            self.credentials.token = token  # type: ignore[attr-defined]
        self.generation = generation

    def _fetch(self, scope: str, error: PayError | None) -> str:
        result = self.credentials.refresh(error)
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise TypeError("refresh() returned a coroutine: use payerr.AsyncTransport")
        return self._fetched(scope, error)

    async def _afetch(self, scope: str, error: PayError | None) -> str:
        result = self.credentials.refresh(error)
        if inspect.isawaitable(result):
            await result
        return self._fetched(scope, error)

    def _fetched(self, scope: str, error: PayError | None) -> str:
        """A token was fetched here (not adopted from another worker): count it."""
        self.refreshes += 1
        if _telemetry.hook is not None:
            _telemetry.hook.refreshed(scope.partition(":")[0], error)
        return str(getattr(self.credentials, "token", ""))

    def _join(self, seen: int) -> tuple[Future[None] | None, bool]:
        """(the refresh in flight, whether this caller runs it); (None, False): already done."""
        with self._lock:
            if self.generation != seen:
                return None, False
            if self._flight is not None:
                return self._flight, False
            from concurrent.futures import Future  # only when a refresh happens

            self._flight = Future()
            return self._flight, True

    def _land(self, flight: Future[None], token: str | None, generation: int | None) -> None:
        with self._lock:
            if token is not None and generation is not None:
                self._adopt(token, generation)
            else:
                self.generation += 1
            self._flight = None
        flight.set_result(None)

    def _crash(self, flight: Future[None], exc: BaseException) -> None:
        with self._lock:
            self._flight = None
        flight.set_exception(exc)

    @contextmanager
    def _running(self, flight: Future[None]) -> Iterator[None]:
        """While this caller fetches: its own requests skip the gate; a failure is shared."""
        marker = REFRESHING.set(True)
        try:
            yield
        except BaseException as exc:
            self._crash(flight, exc)
            raise
        finally:
            REFRESHING.reset(marker)

    def _moved_on(self, carried: str | None) -> bool:
        """Whether the token is no longer the one the failing request carried: someone
        refreshed it (here, or in the storage these credentials share): resend with it."""
        return carried is not None and getattr(self.credentials, "token", carried) != carried

    def _sharing(self, carried: str | None) -> dict[str, str | None]:
        """The token comparison, for a coordinator that makes it."""
        compares = getattr(self.coordinator, "compares_tokens", False)
        return {"carried": carried} if compares and carried is not None else {}

    def refresh(
        self, scope: str, seen: int, error: PayError | None, carried: str | None = None
    ) -> None:
        """A token other than ``carried`` (the one the failing request used; else newer
        than generation ``seen``), fetched only if nobody else has."""
        flight, owner = self._join(seen)
        if flight is None:
            return
        if not owner:
            flight.result()
            return
        with self._running(flight):
            if self._moved_on(carried):
                return self._land(flight, None, None)
            shared = getattr(self.credentials, "refresh_shared", None)
            if shared is not None:  # the credentials' own storage is shared, and locks
                if shared(carried, error):
                    self._fetched(scope, error)
                return self._land(flight, None, None)
            if not self.shares_token:
                self._fetch(scope, error)
                return self._land(flight, None, None)
            fetch = partial(self._fetch, scope, error)
            found = self.coordinator.refresh_token(scope, seen, fetch, **self._sharing(carried))
            self._land(flight, *found)

    async def arefresh(
        self, scope: str, seen: int, error: PayError | None, carried: str | None = None
    ) -> None:
        """``refresh`` for the async transport; waits without blocking its event loop."""
        flight, owner = self._join(seen)
        if flight is None:
            return
        if not owner:
            from .._coordination.aio import wait

            return await wait(flight)
        await _shielded(partial(self._aown, flight, scope, seen, error, carried))

    async def _aown(
        self,
        flight: Future[None],
        scope: str,
        seen: int,
        error: PayError | None,
        carried: str | None,
    ) -> None:
        """The fetch ``arefresh`` runs for every waiter: it lands, or fails, for all."""
        with self._running(flight):
            if self._moved_on(carried):
                return self._land(flight, None, None)
            if not self.shares_token:
                await self._afetch(scope, error)
                return self._land(flight, None, None)
            fetch = partial(self._afetch, scope, error)
            sharing = self._sharing(carried)
            self._land(
                flight, *await self.coordinator.arefresh_token(scope, seen, fetch, **sharing)
            )


async def _shielded(run: Callable[[], Awaitable[None]]) -> None:
    """``run()`` carried to its end even if the request that started it is cancelled:
    the token it fetches is the one its waiters wait for (asyncio: it goes on as a task;
    trio: the canceller waits for it)."""
    from .._coordination.aio import _library

    if _library() == "trio":
        import trio

        with trio.CancelScope(shield=True):
            await run()
        return
    import asyncio

    task = asyncio.ensure_future(run())
    _FETCHES.add(task)  # a task nobody awaits any more must stay referenced
    task.add_done_callback(_FETCHES.discard)
    await asyncio.shield(task)


def gate_for(credentials: Credentials, coordinator: Coordinator) -> RefreshGate:
    """The gate of a credentials object, shared by every transport that uses it."""
    gate = getattr(credentials, "_payerr_gate", None)
    if isinstance(gate, RefreshGate):
        return gate
    gate = RefreshGate(credentials, coordinator)
    try:
        credentials._payerr_gate = gate  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # slots or frozen: the gate is per transport then
        pass
    return gate


class TokenEdit(Frozen):
    """Where a token goes, said without naming a client: each client in ``_clients``
    applies it to its own request type (``_clients.edits``)."""

    __slots__ = _fields = ("place", "name", "value")
    place: Literal["query", "header", "json"]
    name: str
    value: str

    def __init__(self, place: Literal["query", "header", "json"], name: str, value: str) -> None:
        set_ = object.__setattr__
        set_(self, "place", place)
        set_(self, "name", name)
        set_(self, "value", value)

    def json_body(self, body: bytes | str | None) -> bytes | None:
        """The JSON body with the token set as a field; None when it is not a JSON object."""
        if not body:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        data[self.name] = self.value
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


class _Token:
    """A token fetched by the user's ``fetch()`` (sync or async), carried where ``edit`` says.

    The kinds below differ only in where the token goes and how it is written, so
    each is this class given a place, a name and a format: no method to override.
    """

    def __init__(
        self,
        fetch: Fetch,
        place: Literal["query", "header", "json"],
        name: str,
        written: Callable[[str], str] = str,
    ) -> None:
        self._fetch = fetch
        self._place: Literal["query", "header", "json"] = place
        self._name = name
        self._written = written
        self.token: str | None = None

    @property
    def ready(self) -> bool:
        return self.token is not None

    def refresh(self, error: PayError | None) -> Awaitable[None] | None:
        result = self._fetch()
        if inspect.isawaitable(result):
            return self._store(result)
        self.token = result
        return None

    async def _store(self, pending: Awaitable[str]) -> None:
        self.token = await pending

    def __repr__(self) -> str:
        return f"{type(self).__name__}(ready={self.ready})"

    def apply(self, request: R) -> R:
        if self.token is None:
            return request
        from .._clients.edits import apply_edit  # the client that owns the request applies it

        return cast(R, apply_edit(request, self.edit(str(self.token))))

    def edit(self, token: str) -> TokenEdit:
        """Where ``token`` goes on a request, for the client to apply."""
        return TokenEdit(self._place, self._name, self._written(token))


class QueryParamToken(_Token):
    """The token as a query parameter, like WeChat's ``?access_token=``."""

    def __init__(self, fetch: Fetch, param: str = "access_token") -> None:
        super().__init__(fetch, "query", param)
        self.param = param


class HeaderToken(_Token):
    """The token in a header, formatted by ``template`` (Huawei: ``HeaderToken.huawei``)."""

    def __init__(
        self,
        fetch: Fetch,
        header: str = "Authorization",
        template: Callable[[str], str] = lambda token: f"Bearer {token}",
    ) -> None:
        super().__init__(fetch, "header", header, template)
        self.header = header
        self.template = template

    @classmethod
    def huawei(cls, fetch: Fetch) -> HeaderToken:
        """Huawei IAP: ``Authorization: Basic base64("APPAT:" + app_access_token)``, as
        the adapter's ``[provider] token`` declares it."""
        placed = token_for("huawei", fetch)
        if not isinstance(placed, HeaderToken):
            raise ValueError("the huawei adapter no longer places its token in a header")
        return placed


class JsonBodyToken(_Token):
    """The token as a field of the JSON body, like CMI's ``accessToken``."""

    def __init__(self, fetch: Fetch, field: str = "accessToken") -> None:
        super().__init__(fetch, "json", field)
        self.field = field


def token_for(provider: str, fetch: Fetch) -> QueryParamToken | HeaderToken | JsonBodyToken:
    """Credentials that carry the token where the provider's adapter says it travels."""
    from .._catalog.registry import catalog

    placement = catalog().spec(provider).token
    if placement is None:
        raise ValueError(f"the {provider} adapter declares no [provider] token placement")
    if placement.place == "query":
        return QueryParamToken(fetch, placement.name)
    if placement.place == "json":
        return JsonBodyToken(fetch, placement.name)
    return HeaderToken(fetch, placement.name, placement.value)
