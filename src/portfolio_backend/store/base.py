"""What every store contract shares: the one error callers handle, and the wrapping that makes
each backend raise only it (limits does the same in its storage base)."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from ..errors import StoreError as StoreError  # the one error every store raises, re-exported

_T = TypeVar("_T")
_A = TypeVar("_A")


class Step(Generic[_T]):
    """One store operation that can share a round trip (Redis) or a transaction (SQLite) with the
    operations of other domains: `Backend.run_steps`. A chat turn is admitted in one such batch
    and settled in another, whatever domains each touches (docs/performance.md counts them).
    Each backend's domain stores make their backend's kind (`RedisStep`, `SqliteStep`)."""

    __slots__ = ()


class StoreContract(ABC):  # noqa: B024 (its subclasses declare the abstract methods)
    """Base of every domain contract (sessions, counters, ...) and of the backends themselves.

    An implementation names its backend in `name` and lists the backend's exception types in
    `backend_errors`; `__init_subclass__` then wraps each of its public coroutines so that those
    exceptions leave it as `StoreError`, and nothing else does. Contracts themselves set neither.
    """

    name: ClassVar[str] = ""
    backend_errors: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.backend_errors:
            return
        for attr, value in list(vars(cls).items()):
            if not attr.startswith("_") and inspect.iscoroutinefunction(value):
                setattr(cls, attr, _wrap_errors(value, cls))


class Backend(StoreContract):
    """One opened backend (a Redis client, or the SQLite file and its thread) that the domain
    stores of a `Stores` bundle share."""

    @abstractmethod
    async def check(self) -> None:
        """Round-trip to the backend; raise StoreError when it is not usable."""

    @abstractmethod
    async def run_steps(self, steps: Sequence[Step[Any]]) -> list[Any]:
        """Run `steps` together, their results in order: one round trip on Redis (on a cluster,
        one to each step's node, at once), one IMMEDIATE transaction on SQLite."""

    @abstractmethod
    async def run_then(self, first: Step[_A], then: Callable[[_A], Sequence[Step[Any]]]) -> tuple[_A, list[Any]]:
        """`first`, then the steps `then` makes of its result: two round trips on Redis (none for
        the second when `then` makes no step), one transaction on SQLite, so what `first` read
        still holds when the others run."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections and threads."""


class StepStore(StoreContract):
    """A domain contract whose changes are also `Step`s, to share a round trip or a transaction."""

    @abstractmethod
    async def run_step(self, step: Step[_T]) -> _T:
        """One step on its own: a round trip or a transaction of its own."""


def _wrap_errors(method: Callable[..., Awaitable[_T]], cls: type[StoreContract]) -> Callable[..., Awaitable[_T]]:
    @functools.wraps(method)
    async def wrapper(*args: Any, **kwargs: Any) -> _T:
        try:
            return await method(*args, **kwargs)
        except StoreError:
            raise
        except cls.backend_errors as exc:
            raise StoreError(f"{cls.name} store unavailable: {type(exc).__name__}") from exc

    return wrapper
