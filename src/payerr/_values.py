"""Value objects that cost nothing to define.

``@dataclass`` writes each class's ``__init__``, ``__eq__``, ``__repr__`` and,
when frozen, ``__setattr__`` as source and compiles it while the module is
imported: about 4.5 M instructions a class, a third of ``import payerr``. A
``Value`` names its fields once, in ``_fields``; equality, ``repr``,
``replace`` and pickling are written here once, and each class's ``__init__``
is ordinary code that the bytecode cache keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Self, TypeVar, cast, dataclass_transform


def _rebuild(cls: Callable[..., Value], values: dict[str, Any]) -> Value:
    """Unpickling and copying go through ``__init__``, so derived fields are derived again."""
    return cls(**values)


class Value:
    """Equality, ``repr``, ``replace`` and pickling over the fields a class names."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    """The ``__init__`` parameters, in order; what ``repr``, ``replace`` and pickles use."""
    _compared: ClassVar[tuple[str, ...]] = ()
    """What equality and hashing use: ``_fields`` unless a class says less."""

    def __init_subclass__(cls) -> None:
        if "_compared" not in cls.__dict__:
            cls._compared = cls._fields

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._compared)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), self._values())

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (``dataclasses.replace``)."""
        make = cast("Callable[..., Self]", type(self))
        return make(**{**self._values(), **changes})


class FrozenInstanceError(AttributeError):
    """A field of an immutable value was assigned (as ``dataclasses.FrozenInstanceError``)."""


@dataclass_transform(frozen_default=True)
class Frozen(Value):
    """An immutable, hashable value: ``__init__`` sets fields with ``object.__setattr__``.

    Declared a dataclass transform so that type checkers flag an assignment to a field,
    as they do for a frozen dataclass; each class's own ``__init__`` is what they check
    calls against."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r} of {type(self).__name__}")

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, name) for name in self._compared))


F = TypeVar("F", bound=Frozen)


def unfrozen(cls: type[F]) -> type[F]:
    """``cls``'s layout with plain attribute stores. A value made often is made as one of
    these, its fields stored, then given ``cls`` by ``__class__`` assignment: a third of
    what ``object.__setattr__`` per field costs, and frozen all the same once handed out.

    Both of ``object``'s own methods are put back: with only ``__setattr__``, the
    inherited ``__delattr__`` keeps every store going through a Python-level look-up."""
    namespace = {
        "__slots__": (),
        "__setattr__": object.__setattr__,
        "__delattr__": object.__delattr__,
        "__module__": cls.__module__,
        "_compared": cls._compared,  # not derived again from ``_fields``
    }
    return type(f"_Unfrozen{cls.__name__}", (cls,), namespace)
