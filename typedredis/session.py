"""Which executor serves which model: bindings made by `connect`, and scoped overrides.

A model (or the default, for every model) may have a sync and an asyncio binding at once.
`using` overrides both for the current context (a contextvar: a thread or an asyncio task),
for tests and multi-tenant apps. The nearest binding in a model's MRO wins.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias, TypeVar

from .errors import ConfigurationError

if TYPE_CHECKING:
    from .executor import AsyncExecutor, SyncExecutor
    from .model import Model

Kind: TypeAlias = Literal["sync", "asyncio"]
T = TypeVar("T")


@dataclass
class Binding:
    """The executors of one model (or of the default): a sync one, an asyncio one, or both."""

    sync: SyncExecutor | None = None
    asyncio: AsyncExecutor | None = None
    models: tuple[type[Model], ...] = field(default=())


_default = Binding()
_bound: dict[type[Model], Binding] = {}
_scoped: ContextVar[Binding | None] = ContextVar("typedredis_scoped", default=None)


def bind(executor: SyncExecutor | AsyncExecutor, models: tuple[type[Model], ...] = ()) -> None:
    """Use ``executor`` for ``models`` (and their subclasses), or for every model if none given."""
    from .executor import SyncExecutor

    for binding in [_default] if not models else [_bound.setdefault(m, Binding()) for m in models]:
        if isinstance(executor, SyncExecutor):
            binding.sync = executor
        else:
            binding.asyncio = executor


def unbind(
    models: tuple[type[Model], ...] = (), kind: Kind | None = None
) -> list[SyncExecutor | AsyncExecutor]:
    """Forget the bindings of ``models`` (or the default ones); returns the executors dropped."""
    dropped: list[SyncExecutor | AsyncExecutor] = []
    for binding in [_default] if not models else [_bound[m] for m in models if m in _bound]:
        if kind in (None, "sync") and binding.sync is not None:
            dropped.append(binding.sync)
            binding.sync = None
        if kind in (None, "asyncio") and binding.asyncio is not None:
            dropped.append(binding.asyncio)
            binding.asyncio = None
    return dropped


def scoped(binding: Binding | None) -> Token[Binding | None]:
    """Make ``binding`` the override of this context; returns the token to `unscoped` with."""
    return _scoped.set(binding)


def unscoped(token: Token[Binding | None]) -> None:
    """End an override made by `scoped`."""
    _scoped.reset(token)


def _lookup(model: type[Model], pick: Callable[[Binding], T | None]) -> T | None:
    override = _scoped.get()
    if override is not None:
        return pick(override)
    for cls in model.__mro__:
        binding = _bound.get(cls)
        if binding is not None and pick(binding) is not None:
            return pick(binding)
    return pick(_default)


def _sync(binding: Binding) -> SyncExecutor | None:
    return binding.sync


def _async(binding: Binding) -> AsyncExecutor | None:
    return binding.asyncio


def sync_executor(model: type[Model], method: str) -> SyncExecutor:
    """The sync executor bound to ``model``; `ConfigurationError` naming the a-twin of
    ``method`` when only an asyncio client is bound, or naming `connect` when none is."""
    fix = f"use `await ...a{method}(...)`, or connect a redis.Redis client too"
    return _bound_executor(model, method, _sync, _async, "a sync", "an asyncio", fix)


def async_executor(model: type[Model], method: str) -> AsyncExecutor:
    """The asyncio executor bound to ``model``; `ConfigurationError` naming the sync twin of
    ``method`` when only a sync client is bound, or naming `connect` when none is."""
    fix = (
        f"call {method.removeprefix('a')}() without await, or connect a redis.asyncio.Redis client "
        "too (typedredis.connect(url, asyncio=True))"
    )
    return _bound_executor(model, method, _async, _sync, "an asyncio", "a sync", fix)


def _bound_executor(
    model: type[Model],
    method: str,
    pick: Callable[[Binding], T | None],
    other: Callable[[Binding], object],
    kind: str,
    other_kind: str,
    fix: str,
) -> T:
    found = _lookup(model, pick)
    if found is not None:
        return found
    name = model.__qualname__
    if _lookup(model, other) is not None:
        only = f"{name} is connected to {other_kind} client only"
        raise ConfigurationError(f"{name}.{method}() needs {kind} client, and {only}: {fix}")
    raise ConfigurationError(f"no Redis connection for {name}: call typedredis.connect(url_or_client) first")
