"""The executors: drive an operation's wire (typedredis.wire) over a transport, sync or asyncio.

They only move bytes: send each batch of commands the wire yields, hand back the replies, and
throw a `TransportFailure` into the wire when the connection fails. The two are mirror images,
line for line. An interruption (KeyboardInterrupt, or a cancelled task) during a round trip is
handed to the wire as a failed connection, so that the operation sees an unknown outcome and
can clean up (a reset retires its staged generation); then the interruption itself is raised.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from itertools import islice
from typing import Any, TypeVar

import redis
import redis.asyncio

from .errors import ConfigurationError
from .plan import Operation, Pull
from .transports import AsyncTransport, SyncTransport
from .wire import TransportFailure, check_server, drive

R = TypeVar("R")


class SyncExecutor:
    """Runs operations on a `redis.Redis` client."""

    def __init__(self, client: redis.Redis) -> None:
        if not isinstance(client, redis.Redis):
            raise ConfigurationError(
                f"a SyncExecutor needs a redis.Redis client, got {type(client).__qualname__}"
            )
        self.client = client
        self.transport = SyncTransport(client)
        self._checked = False

    def run(self, operation: Operation[R], source: Iterable[Any] = ()) -> R:
        """Drive ``operation`` to its result (or its exception); its `Pull` requests are
        answered from ``source``."""
        if not self._checked:
            self._checked = True
            self.run(check_server())
        wire = drive(operation)
        items = iter(source)
        interrupted: BaseException | None = None
        try:
            step = next(wire)
            while True:
                try:
                    if isinstance(step, Pull):
                        replies: Any = list(islice(items, step.count))
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

    def close(self) -> None:
        """Close the executor's own connections."""
        self.transport.close()


class AsyncExecutor:
    """Runs operations on a `redis.asyncio.Redis` client."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        if not isinstance(client, redis.asyncio.Redis):
            raise ConfigurationError(
                f"an AsyncExecutor needs a redis.asyncio.Redis client, got {type(client).__qualname__}"
            )
        self.client = client
        self.transport = AsyncTransport(client)
        self._checked = False

    async def run(self, operation: Operation[R], source: Iterable[Any] | AsyncIterable[Any] = ()) -> R:
        """Drive ``operation`` to its result (or its exception); its `Pull` requests are
        answered from ``source``."""
        if not self._checked:
            self._checked = True
            await self.run(check_server())
        wire = drive(operation)
        items = _aiter(source)
        interrupted: BaseException | None = None
        try:
            step = next(wire)
            while True:
                try:
                    if isinstance(step, Pull):
                        replies: Any = [item async for item in _aislice(items, step.count)]
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
