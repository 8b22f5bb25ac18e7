"""The executors: drive an operation's wire (typedredis.wire) over a transport, sync or asyncio.

They only move bytes: send each batch of commands the wire yields, hand back the replies, and
throw a `TransportFailure` into the wire when the connection fails. A batch sent in two halves
(`Send`, then `Receive`) keeps its connection in between; a run that ends between the two (an
interruption while the operation decodes) closes that connection. The two are mirror images,
line for line. An interruption (KeyboardInterrupt, or a cancelled task) during a round trip is
handed to the wire as a failed connection, so that the operation sees an unknown outcome and
can clean up (a reset retires its staged generation); then the interruption itself is raised.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from itertools import islice
from typing import Any, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from .errors import ConfigurationError
from .plan import Operation, Pull
from .transports import AsyncClusterTransport, AsyncTransport, SyncClusterTransport, SyncTransport
from .wire import DEADLINE, Pause, Receive, Send, TransportFailure, check_server, drive

R = TypeVar("R")


class SyncExecutor:
    """Runs operations on a `redis.Redis` or `redis.cluster.RedisCluster` client; a call that a
    cluster redirects is sent again for at most ``deadline`` seconds (typedredis.wire)."""

    def __init__(self, client: redis.Redis | redis.cluster.RedisCluster, deadline: float = DEADLINE) -> None:
        self.transport: SyncTransport | SyncClusterTransport
        if isinstance(client, redis.cluster.RedisCluster):
            self.transport = SyncClusterTransport(client)
        elif isinstance(client, redis.Redis):
            self.transport = SyncTransport(client)
        else:
            raise ConfigurationError(
                f"a SyncExecutor needs a redis.Redis or redis.cluster.RedisCluster client, got "
                f"{type(client).__qualname__}"
            )
        self.client = client
        self.deadline = deadline
        self.generations: dict[bytes, int] = {}
        """The generation each model was last seen at on this client (`querying.get`'s hint)."""
        self._checked = False

    def run(self, operation: Operation[R], source: Iterable[Any] = ()) -> R:
        """Drive ``operation`` to its result (or its exception); its `Pull` requests are
        answered from ``source``."""
        if not self._checked:
            self._checked = True
            self.run(check_server())
        wire = drive(operation, self.deadline)
        items = iter(source)
        interrupted: BaseException | None = None
        held: Any = None  # the connection of a `Send` whose replies are not read yet
        try:
            step = next(wire)
            while True:
                try:
                    if isinstance(step, Pull):
                        replies: Any = list(islice(items, step.count))
                    elif isinstance(step, Pause):
                        time.sleep(step.seconds)
                        replies = None
                    elif isinstance(step, Send):
                        held = self.transport.send(step.commands)
                        replies = None
                    elif isinstance(step, Receive):
                        sent, held = held, None
                        replies = self.transport.receive(sent)
                    else:
                        replies = self.transport.round_trip(step)
                except TransportFailure as failure:
                    step = wire.throw(failure)
                except Exception as exc:  # the source's own error
                    step = wire.throw(exc)
                except BaseException as exc:  # interrupted: the operation learns an unknown outcome
                    interrupted = interrupted or exc
                    step = wire.throw(_interrupted(exc))
                else:
                    step = wire.send(replies)
        except StopIteration as stop:
            if interrupted is not None:
                raise interrupted from None
            return stop.value  # type: ignore[no-any-return]  # the operation's declared result
        except BaseException as exc:
            if interrupted is not None and exc is not interrupted:
                raise interrupted from exc
            raise
        finally:
            if held is not None:
                self.transport.drop(held)

    def close(self) -> None:
        """Close the executor's own connections."""
        self.transport.close()


class AsyncExecutor:
    """Runs operations on a `redis.asyncio.Redis` or `redis.asyncio.cluster.RedisCluster` client;
    a call that a cluster redirects is sent again for at most ``deadline`` seconds."""

    def __init__(
        self, client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster, deadline: float = DEADLINE
    ) -> None:
        self.transport: AsyncTransport | AsyncClusterTransport
        if isinstance(client, redis.asyncio.cluster.RedisCluster):
            self.transport = AsyncClusterTransport(client)
        elif isinstance(client, redis.asyncio.Redis):
            self.transport = AsyncTransport(client)
        else:
            raise ConfigurationError(
                f"an AsyncExecutor needs a redis.asyncio.Redis or redis.asyncio.cluster.RedisCluster "
                f"client, got {type(client).__qualname__}"
            )
        self.client = client
        self.deadline = deadline
        self.generations: dict[bytes, int] = {}
        """The generation each model was last seen at on this client (`querying.get`'s hint)."""
        self._checked = False

    async def run(self, operation: Operation[R], source: Iterable[Any] | AsyncIterable[Any] = ()) -> R:
        """Drive ``operation`` to its result (or its exception); its `Pull` requests are
        answered from ``source``."""
        if not self._checked:
            self._checked = True
            await self.run(check_server())
        wire = drive(operation, self.deadline)
        items = _aiter(source)
        interrupted: BaseException | None = None
        held: Any = None  # the connection of a `Send` whose replies are not read yet
        try:
            step = next(wire)
            while True:
                try:
                    if isinstance(step, Pull):
                        replies: Any = [item async for item in _aislice(items, step.count)]
                    elif isinstance(step, Pause):
                        await asyncio.sleep(step.seconds)
                        replies = None
                    elif isinstance(step, Send):
                        held = await self.transport.send(step.commands)
                        replies = None
                    elif isinstance(step, Receive):
                        sent, held = held, None
                        replies = await self.transport.receive(sent)
                    else:
                        replies = await self.transport.round_trip(step)
                except TransportFailure as failure:
                    step = wire.throw(failure)
                except Exception as exc:  # the source's own error
                    step = wire.throw(exc)
                except BaseException as exc:  # cancelled: the operation learns an unknown outcome
                    interrupted = interrupted or exc
                    step = wire.throw(_interrupted(exc))
                else:
                    step = wire.send(replies)
        except StopIteration as stop:
            if interrupted is not None:
                raise interrupted from None
            return stop.value  # type: ignore[no-any-return]  # the operation's declared result
        except BaseException as exc:
            if interrupted is not None and exc is not interrupted:
                raise interrupted from exc
            raise
        finally:
            if held is not None:
                await self.transport.drop(held)

    async def close(self) -> None:
        """Close the executor's own connections."""
        await self.transport.close()


def _interrupted(exc: BaseException) -> TransportFailure:
    failure = TransportFailure(f"interrupted by {type(exc).__name__}", sent=True)
    failure.__cause__ = exc
    return failure


async def _aiter(source: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def _aislice(items: AsyncIterator[Any], count: int) -> AsyncIterator[Any]:
    for _ in range(count):
        try:
            yield await anext(items)
        except StopAsyncIteration:
            return
