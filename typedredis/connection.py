"""`connect`, `disconnect` and `using`: which Redis server serves which models."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal, TypeAlias, overload

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from .errors import ConfigurationError
from .executor import AsyncExecutor, SyncExecutor
from .session import Binding, bind, scoped, unbind, unscoped
from .wire import DEADLINE

if TYPE_CHECKING:
    from .model import Model

SyncClient: TypeAlias = redis.Redis | redis.cluster.RedisCluster
AsyncClient: TypeAlias = redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster
Client: TypeAlias = SyncClient | AsyncClient


@overload
def connect(target: redis.Redis, *models: type[Model], deadline: float = ...) -> redis.Redis: ...
@overload
def connect(
    target: redis.asyncio.Redis, *models: type[Model], deadline: float = ...
) -> redis.asyncio.Redis: ...
@overload
def connect(
    target: redis.cluster.RedisCluster, *models: type[Model], deadline: float = ...
) -> redis.cluster.RedisCluster: ...
@overload
def connect(
    target: redis.asyncio.cluster.RedisCluster, *models: type[Model], deadline: float = ...
) -> redis.asyncio.cluster.RedisCluster: ...
@overload
def connect(
    target: str,
    *models: type[Model],
    asyncio: Literal[False] = False,
    cluster: Literal[False] = False,
    deadline: float = ...,
) -> redis.Redis: ...
@overload
def connect(
    target: str,
    *models: type[Model],
    asyncio: Literal[True],
    cluster: Literal[False] = False,
    deadline: float = ...,
) -> redis.asyncio.Redis: ...
@overload
def connect(
    target: str,
    *models: type[Model],
    asyncio: Literal[False] = False,
    cluster: Literal[True],
    deadline: float = ...,
) -> redis.cluster.RedisCluster: ...
@overload
def connect(
    target: str, *models: type[Model], asyncio: Literal[True], cluster: Literal[True], deadline: float = ...
) -> redis.asyncio.cluster.RedisCluster: ...
@overload
def connect(
    target: str, *models: type[Model], asyncio: Literal[False] = False, cluster: bool, deadline: float = ...
) -> SyncClient: ...
def connect(
    target: str | Client,
    *models: type[Model],
    asyncio: bool = False,
    cluster: bool = False,
    deadline: float = DEADLINE,
) -> Client:
    """Use ``target`` for ``models`` and their subclasses (for every model when none given).

    ``target`` is a ``redis://``, ``rediss://`` or ``unix://`` URL (a `redis.Redis` client is
    made from it, or a `redis.asyncio.Redis` one with ``asyncio=True``; with ``cluster=True``
    a `redis.cluster.RedisCluster` or `redis.asyncio.cluster.RedisCluster` of the cluster
    that node belongs to), or a client of any of those kinds. A model can have a sync and an
    asyncio client at once: connect both; the sync methods use the one, the ``a``-methods
    (``await User.aget(1)``) the other. Connecting again replaces the earlier client of the
    same kind. Returns the client. A client made with ``decode_responses=True`` works too:
    typedredis always reads raw bytes. typedredis opens its own connections with the client's
    settings and no retries (see the failure modes page). On a cluster, a call the cluster
    redirects (a slot migrating, a primary failing over) is sent again for at most
    ``deadline`` seconds (see the Scaling out page).
    """
    client = _client(target, asyncio=asyncio, cluster=cluster)
    executor = _executor(client)
    executor.deadline = deadline
    bind(executor, models)
    return client


def disconnect(*models: type[Model]) -> None:
    """Forget the clients of ``models`` (or the default ones), and close typedredis' own
    connections of the sync ones (the asyncio ones close with `adisconnect`). The clients
    themselves are the caller's to close."""
    for executor in unbind(models):
        if isinstance(executor, SyncExecutor):
            executor.close()


async def adisconnect(*models: type[Model]) -> None:
    """`disconnect`, closing typedredis' own asyncio connections too (await it in a lifespan)."""
    for executor in unbind(models):
        if isinstance(executor, SyncExecutor):
            executor.close()
        else:
            await executor.close()


@contextmanager
def using(*targets: Client) -> Iterator[None]:
    """Serve every model with ``targets`` (a sync client, an asyncio client, or one of each) in
    this block, in the current thread or asyncio task only (a contextvar)::

        with typedredis.using(tenant_client):
            User.get(1)
    """
    binding = Binding()
    for target in targets:
        executor = _executor(_client(target, asyncio=False, cluster=False))
        if isinstance(executor, AsyncExecutor):
            binding.asyncio = executor
        else:
            binding.sync = executor
    token = scoped(binding)
    try:
        yield
    finally:
        unscoped(token)


_executors: weakref.WeakKeyDictionary[Client, SyncExecutor | AsyncExecutor] = weakref.WeakKeyDictionary()
"""One executor (and its own pool) per client, however often it is connected or used."""


def _executor(client: Client) -> SyncExecutor | AsyncExecutor:
    executor = _executors.get(client)
    if executor is None:
        if isinstance(client, (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster)):
            executor = AsyncExecutor(client)
        else:
            executor = SyncExecutor(client)
        _executors[client] = executor
    return executor


def _client(target: str | Client, *, asyncio: bool, cluster: bool) -> Client:
    if isinstance(target, str):
        if cluster:
            if asyncio:
                return redis.asyncio.cluster.RedisCluster.from_url(target)
            return redis.cluster.RedisCluster.from_url(target)
        return redis.asyncio.Redis.from_url(target) if asyncio else redis.Redis.from_url(target)
    if isinstance(
        target,
        (redis.Redis, redis.asyncio.Redis, redis.cluster.RedisCluster, redis.asyncio.cluster.RedisCluster),
    ):
        return target
    raise ConfigurationError(
        f"typedredis connects to a redis.Redis, redis.asyncio.Redis, redis.cluster.RedisCluster or "
        f"redis.asyncio.cluster.RedisCluster client (or a URL), got "
        f"{type(target).__module__}.{type(target).__qualname__}"
    )
