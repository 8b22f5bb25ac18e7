"""`connect`: tell typedredis which Redis server to use, globally or for some models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import redis

from .executor import SyncExecutor
from .session import bind

if TYPE_CHECKING:
    from .model import Model


def connect(target: str | redis.Redis, *models: type[Model]) -> redis.Redis:
    """Use ``target`` (a ``redis://``, ``rediss://`` or ``unix://`` URL, or a `redis.Redis`
    client) for ``models`` and their subclasses.

    With no models it becomes the default for every model; calling it again replaces the
    earlier binding. Returns the client. A client made with ``decode_responses=True`` works
    too: typedredis always reads raw bytes. Redis Cluster clients are refused (not supported yet).
    """
    client = redis.Redis.from_url(target) if isinstance(target, str) else target
    bind(SyncExecutor(client), models)
    return client
