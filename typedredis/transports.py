"""Where the bytes go: a round trip of commands over a redis-py connection, sync or asyncio.

A transport takes a batch of commands, sends them in one write over a pooled connection,
reads one reply per command, and returns the replies: error replies as `wire.ErrorReply`
values (never raised), a failed connection as `wire.TransportFailure`. It decides nothing
else (see typedredis.wire). The sync and asyncio transports are mirror images, line for line;
so are the two cluster transports, which send each command to the node that owns its slot.

A round trip can also be made in two halves: `send` writes the commands and keeps the
connection, `receive` reads their replies and gives the connection back (`drop` closes it
instead, when the replies will never be read); a cluster transport writes at `send` to the
node that owns the batch's slot.

Each transport uses a pool of its own (typedredis.pools: lighter than redis-py's), of
connections built from the client's settings (server, credentials, TLS, timeouts,
``max_connections``) with retries turned off: redis-py retries a command after a connection
error, which would apply a write twice, and backs off for seconds before failing on a dead
server. A call waits for a free connection rather than fail when the pool is full.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable, Generator
from typing import Any, NoReturn, TypeVar, cast

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError
from redis.retry import Retry

from .cluster import Address, Router, Step
from .pools import AsyncPool, SyncPool
from .wire import Command, ErrorReply, TransportFailure

_pack: Callable[..., bytes] | None
try:
    from hiredis import pack_command as _pack
except ImportError:  # pragma: no cover - hiredis is an optional speed-up
    _pack = None

_CODES = {
    "OutOfMemoryError": "OOM",
    "NoPermissionError": "NOPERM",
    "ReadOnlyError": "READONLY",
    "ExecAbortError": "EXECABORT",
    "NoScriptError": "NOSCRIPT",
    "TryAgainError": "TRYAGAIN",
    "AskError": "ASK",
    "MovedError": "MOVED",
    "ClusterDownError": "CLUSTERDOWN",
    "ClusterCrossSlotError": "CROSSSLOT",
    "MasterDownError": "MASTERDOWN",
}
"""redis-py turns these error codes into exception classes and drops them from the text."""
_FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)
R = TypeVar("R")


def error_reply(exc: ResponseError) -> ErrorReply:
    """The server's error, as typedredis reads it: its code, and its text starting with it
    (without what Redis 6.2 puts before an error raised inside a script)."""
    text = _strip_script_prefix(str(exc))
    code = _CODES.get(type(exc).__name__)
    if code is None:
        first = text.split(" ", 1)[0]
        code = first if first.isupper() and first.isalnum() else "ERR"
    elif not text.startswith(code + " "):
        text = f"{code} {text}"
    return ErrorReply(code, text)


def _strip_script_prefix(text: str) -> str:
    if text.startswith("Error running script"):
        text = text.split("): ", 1)[-1]
    while text.startswith("@user_script:"):
        text = text.split(": ", 1)[-1].lstrip()
    return text.removeprefix("-")


def _packed(conn: Any, commands: list[Command]) -> list[bytes]:
    # hiredis packs bytes/str/int directly; redis-py's own packer copies every argument first
    # (and joins them in chunks). The sync connection makes a system call per item: one item.
    if _pack is None:
        packed: list[bytes] = conn.pack_commands(commands)
        return packed
    if len(commands) == 1:
        return [_pack(commands[0])]
    return [b"".join([_pack(command) for command in commands])]


def _own_pool(
    pool: Any, plain: type[Any], blocking: type[Any], own: type[Any], retry: Any, **settings: Any
) -> Any:
    """A pool of typedredis' own (``own``: `SyncPool` or `AsyncPool`) with the connections
    ``pool`` (the client's) would make, without retries, that waits for a free connection
    where the client's would raise "Too many connections" (redis-py 8 caps a plain pool at 100
    connections): a thousand concurrent calls queue for the client's ``max_connections``.
    ``settings`` override the client's connection settings."""
    if type(pool) not in (plain, blocking):  # Sentinel and other pools: used as they are
        return pool
    kwargs = {**pool.connection_kwargs, "retry": retry, **settings}
    return own(
        pool.connection_class,
        pool.max_connections,
        pool.timeout if type(pool) is blocking else None,  # a caller's own wait limit stays
        **kwargs,
    )


class SyncTransport:
    """Round trips over a `redis.Redis` client's connections."""

    def __init__(self, client: redis.Redis) -> None:
        self.pool = _own_pool(
            client.connection_pool,
            redis.ConnectionPool,
            redis.BlockingConnectionPool,
            SyncPool,
            Retry(NoBackoff(), 0),
        )
        if self.pool is not client.connection_pool:
            weakref.finalize(client, self.pool.disconnect)

    @classmethod
    def over(cls, pool: Any) -> SyncTransport:
        """A transport over ``pool`` (a cluster transport's pool of one node)."""
        transport = cls.__new__(cls)
        transport.pool = pool
        return transport

    def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`)."""
        return self._exchange(self._connection(), commands, len(commands), keep=False)

    def send(self, commands: list[Command]) -> tuple[Any, int]:
        """Send ``commands`` in one write, keeping the connection for `receive`."""
        conn = self._connection()
        self._exchange(conn, commands, 0, keep=True)
        return conn, len(commands)

    def receive(self, sent: tuple[Any, int]) -> list[Any]:
        """The replies of the commands `send` wrote (error replies as `ErrorReply`)."""
        conn, count = sent
        return self._exchange(conn, None, count, keep=False)

    def drop(self, sent: tuple[Any, int]) -> None:
        """Close the connection of a `send` whose replies will not be read, and give it back."""
        conn = sent[0]
        try:
            conn.disconnect()
        finally:
            self.pool.release(conn)

    def _connection(self) -> Any:
        try:
            return self.pool.get_connection()
        except _FAILURES as exc:
            raise TransportFailure(f"cannot reach Redis: {exc}", sent=False) from exc

    def _exchange(self, conn: Any, commands: list[Command] | None, count: int, *, keep: bool) -> list[Any]:
        """Write ``commands`` (if any), then read ``count`` replies; the connection goes back to
        the pool unless ``keep``, and is closed when anything fails."""
        try:
            if commands is not None:
                conn.send_packed_command(_packed(conn, commands))
            replies: list[Any] = []
            for _ in range(count):
                try:
                    replies.append(conn.read_response(disable_decoding=True))
                except ResponseError as exc:
                    replies.append(error_reply(exc))
        except _FAILURES as exc:
            self.drop((conn, 0))
            raise TransportFailure(str(exc), sent=True) from exc
        except BaseException:
            self.drop((conn, 0))  # interrupted mid-write or mid-reply: its state is unknown
            raise
        if not keep:
            self.pool.release(conn)
        return replies

    def close(self) -> None:
        """Close the transport's own connections."""
        self.pool.disconnect()


def _one_deadline(settings: dict[str, Any]) -> tuple[float | None, dict[str, Any]]:
    """The deadline of a whole asyncio round trip (the connection settings' socket_timeout), and
    the settings that turn redis-py's own per-command timeouts off. redis-py runs every write of
    a connection with a socket_timeout in `asyncio.wait_for` (a task of its own) and every read
    in a timeout context, ~20 µs a call here (docs/explanation/benchmarks-asyncio.md).
    Connecting keeps its own limit."""
    timeout = settings.get("socket_timeout")
    connect = settings.get("socket_connect_timeout")
    return timeout, {"socket_timeout": None, "socket_connect_timeout": connect or timeout}


class AsyncTransport:
    """Round trips over a `redis.asyncio.Redis` client's connections."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client_pool = client.connection_pool
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self.timeout: float | None = None
        self._settings: dict[str, Any] = {}
        if type(self.client_pool) in (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool):
            self.timeout, self._settings = _one_deadline(self.client_pool.connection_kwargs)
        self._fixed: Any = None

    @classmethod
    def over(cls, pool: Any, timeout: float | None) -> AsyncTransport:
        """A transport over ``pool`` (a cluster transport's pool of one node, on one event loop),
        with a deadline of ``timeout`` per round trip."""
        transport = cls.__new__(cls)
        transport._fixed, transport.timeout = pool, timeout
        return transport

    @property
    def pool(self) -> Any:
        """The running event loop's pool: asyncio connections belong to the loop that opened
        them, so a client connected once (at import time, say) serves every loop that comes
        along (a test's, a reloaded server's) with connections of its own."""
        if self._fixed is not None:
            return self._fixed
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _own_pool(
                self.client_pool,
                redis.asyncio.ConnectionPool,
                redis.asyncio.BlockingConnectionPool,
                AsyncPool,
                redis.asyncio.retry.Retry(NoBackoff(), 0),
                **self._settings,
            )
        return pool

    async def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`), under
        one deadline."""
        return await self._exchange(await self._connection(), commands, len(commands), keep=False)

    async def send(self, commands: list[Command]) -> tuple[Any, int]:
        """Send ``commands`` in one write, keeping the connection for `receive`."""
        conn = await self._connection()
        await self._exchange(conn, commands, 0, keep=True)
        return conn, len(commands)

    async def receive(self, sent: tuple[Any, int]) -> list[Any]:
        """The replies of the commands `send` wrote (error replies as `ErrorReply`)."""
        conn, count = sent
        return await self._exchange(conn, None, count, keep=False)

    async def drop(self, sent: tuple[Any, int]) -> None:
        """Close the connection of a `send` whose replies will not be read, and give it back."""
        conn = sent[0]
        try:
            await conn.disconnect()
        finally:
            await self.pool.release(conn)

    async def _connection(self) -> Any:
        try:
            return await self.pool.get_connection()
        except _FAILURES as exc:
            raise TransportFailure(f"cannot reach Redis: {exc}", sent=False) from exc

    async def _exchange(
        self, conn: Any, commands: list[Command] | None, count: int, *, keep: bool
    ) -> list[Any]:
        """Write ``commands`` (if any), then read ``count`` replies, under one deadline; the
        connection goes back to the pool unless ``keep``, and is closed when anything fails."""
        try:
            async with asyncio.timeout(self.timeout):
                if commands is not None:
                    await conn.send_packed_command(_packed(conn, commands))
                replies: list[Any] = []
                for _ in range(count):
                    try:
                        replies.append(await conn.read_response(disable_decoding=True))
                    except ResponseError as exc:
                        replies.append(error_reply(exc))
        except _FAILURES as exc:  # the deadline's TimeoutError is an OSError too
            await self.drop((conn, 0))
            self._failed(exc)
        except BaseException:
            await self.drop((conn, 0))  # cancelled mid-write or mid-reply: its state is unknown
            raise
        if not keep:
            await self.pool.release(conn)
        return replies

    def _failed(self, exc: BaseException) -> NoReturn:
        """Raise the `TransportFailure` of ``exc`` (our deadline's as redis-py's own timeout)."""
        if isinstance(exc, TimeoutError):  # the same exception as redis-py's own deadline
            late = redis.TimeoutError(f"Timeout reading from Redis after {self.timeout} s")
            raise TransportFailure(str(late), sent=True) from late
        raise TransportFailure(str(exc), sent=True) from exc

    async def close(self) -> None:
        """Close the transport's own connections of this event loop (and forget the others')."""
        pool = self.pool
        if self._fixed is None:
            self._pools.clear()
        await pool.disconnect()


def _drive(
    steps: Generator[Step, list[Any], R],
    send: Callable[[Address, list[Command]], list[Any]],
    received: Callable[[], list[Any]] | None = None,
) -> R:
    """Run a `Router` generator, sending each step with ``send``; with ``received``, its first
    step was sent ahead (a cluster transport's `send`), and ``received()`` reads its replies."""
    try:
        step = next(steps) if received is None else None
        while True:
            read, received = received, None
            try:
                answers = read() if read is not None else send(*cast(Step, step))
            except TransportFailure as failure:
                step = steps.throw(failure)
            else:
                step = steps.send(answers)
    except StopIteration as stop:
        return cast(R, stop.value)


async def _adrive(
    steps: Generator[Step, list[Any], R],
    send: Callable[[Address, list[Command]], Awaitable[list[Any]]],
    received: Callable[[], Awaitable[list[Any]]] | None = None,
) -> R:
    """`_drive`, awaiting each step."""
    try:
        step = next(steps) if received is None else None
        while True:
            read, received = received, None
            try:
                answers = await (read() if read is not None else send(*cast(Step, step)))
            except TransportFailure as failure:
                step = steps.throw(failure)
            else:
                step = steps.send(answers)
    except StopIteration as stop:
        return cast(R, stop.value)


class SyncClusterTransport:
    """Round trips over the nodes of a `redis.cluster.RedisCluster` client: each command goes to
    the node that owns its key's slot (typedredis.cluster), over a pool of typedredis' own per
    node, with the client's connection settings and no retries."""

    def __init__(self, client: redis.cluster.RedisCluster) -> None:
        nodes: list[Any] = cast(Any, client).get_nodes()  # unannotated in some redis-py versions
        self.router = Router([(node.host, int(node.port)) for node in nodes])
        self._template = client.get_redis_connection(nodes[0]).connection_pool
        self._pools: dict[Address, SyncTransport] = {}
        self._lock = threading.Lock()

    def _node(self, address: Address) -> SyncTransport:
        transport = self._pools.get(address)
        if transport is None:
            with self._lock:
                transport = self._pools.get(address)
                if transport is None:
                    host, port = address
                    pool = _own_pool(
                        self._template,
                        redis.ConnectionPool,
                        redis.BlockingConnectionPool,
                        SyncPool,
                        Retry(NoBackoff(), 0),
                        host=host,
                        port=port,
                    )
                    transport = self._pools[address] = SyncTransport.over(pool)
        return transport

    def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands``, each to the node that owns its slot (one write per node); their
        replies in order (error replies as `ErrorReply`)."""
        return _drive(
            self.router.round_trip(commands), lambda address, part: self._node(address).round_trip(part)
        )

    def send(self, commands: list[Command]) -> tuple[Any, SyncTransport, Any]:
        """Write the first node's share of ``commands`` (a batch of one model: all of them),
        keeping its connection for `receive`; a node that fails meanwhile is handled as in a
        round trip (the slot map reloaded from another node)."""
        steps = self.router.round_trip(commands)
        address, part = next(steps)
        while True:
            node = self._node(address)
            try:
                return steps, node, node.send(part)
            except TransportFailure as failure:
                address, part = steps.throw(failure)  # or the failure, raised for the wire

    def receive(self, sent: tuple[Any, SyncTransport, Any]) -> list[Any]:
        """The replies of the commands `send` routed, in order (error replies as `ErrorReply`);
        the other nodes' shares, if any, in round trips."""
        steps, node, handle = sent
        return _drive(
            steps, lambda address, part: self._node(address).round_trip(part), lambda: node.receive(handle)
        )

    def drop(self, sent: tuple[Any, SyncTransport, Any]) -> None:
        """Close the connection of a `send` whose replies will not be read."""
        steps, node, handle = sent
        steps.close()
        node.drop(handle)

    def close(self) -> None:
        """Close the transport's own connections to every node."""
        for transport in list(self._pools.values()):
            transport.close()


class AsyncClusterTransport:
    """`SyncClusterTransport` for a `redis.asyncio.cluster.RedisCluster` client: per event loop,
    a pool of typedredis' own per node (see `AsyncTransport`)."""

    def __init__(self, client: redis.asyncio.cluster.RedisCluster) -> None:
        startup = list(client.nodes_manager.startup_nodes.values())
        self.router = Router([(node.host, int(node.port)) for node in startup])
        template = startup[0]
        settings = {
            k: v
            for k, v in template.connection_kwargs.items()
            if k not in ("host", "port", "redis_connect_func")
        }
        self.timeout, deadline = _one_deadline(settings)
        self._settings = {**settings, **deadline}
        self._connection_class = template.connection_class
        self._max_connections = template.max_connections
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Address, AsyncTransport]] = (
            weakref.WeakKeyDictionary()
        )

    def _node(self, address: Address) -> AsyncTransport:
        loop = asyncio.get_running_loop()
        pools = self._loops.get(loop)
        if pools is None:
            pools = self._loops[loop] = {}
        transport = pools.get(address)
        if transport is None:
            host, port = address
            pool = AsyncPool(
                self._connection_class,
                self._max_connections,
                None,
                **{
                    **self._settings,
                    "host": host,
                    "port": port,
                    "retry": redis.asyncio.retry.Retry(NoBackoff(), 0),
                },
            )
            transport = pools[address] = AsyncTransport.over(pool, self.timeout)
        return transport

    async def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands``, each to the node that owns its slot (one write per node); their
        replies in order (error replies as `ErrorReply`)."""
        return await _adrive(
            self.router.round_trip(commands), lambda address, part: self._node(address).round_trip(part)
        )

    async def send(self, commands: list[Command]) -> tuple[Any, AsyncTransport, Any]:
        """Write the first node's share of ``commands`` (a batch of one model: all of them),
        keeping its connection for `receive`; a node that fails meanwhile is handled as in a
        round trip (the slot map reloaded from another node)."""
        steps = self.router.round_trip(commands)
        address, part = next(steps)
        while True:
            node = self._node(address)
            try:
                return steps, node, await node.send(part)
            except TransportFailure as failure:
                address, part = steps.throw(failure)  # or the failure, raised for the wire

    async def receive(self, sent: tuple[Any, AsyncTransport, Any]) -> list[Any]:
        """The replies of the commands `send` routed, in order (error replies as `ErrorReply`);
        the other nodes' shares, if any, in round trips."""
        steps, node, handle = sent
        return await _adrive(
            steps, lambda address, part: self._node(address).round_trip(part), lambda: node.receive(handle)
        )

    async def drop(self, sent: tuple[Any, AsyncTransport, Any]) -> None:
        """Close the connection of a `send` whose replies will not be read."""
        steps, node, handle = sent
        steps.close()
        await node.drop(handle)

    async def close(self) -> None:
        """Close the transport's own connections of this event loop (and forget the others')."""
        pools = self._loops.get(asyncio.get_running_loop(), {})
        self._loops.clear()
        for transport in pools.values():
            await transport.close()
