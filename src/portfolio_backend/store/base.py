"""What every store contract shares: the one error callers handle, and the wrapping that makes
each backend raise only it (limits does the same in its storage base)."""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from ..errors import StoreError as StoreError  # the one error every store raises, re-exported

_T = TypeVar("_T")


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
    async def close(self) -> None:
        """Release connections and threads."""


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
