"""Where the bytes go: a round trip of commands over a redis-py connection, sync or asyncio.

A transport takes a batch of commands, sends them in one write over a pooled connection,
reads one reply per command, and returns the replies: error replies as `wire.ErrorReply`
values (never raised), a failed connection as `wire.TransportFailure`. It decides nothing
else (see typedredis.wire). The two transports are mirror images, line for line.

Each transport uses a pool of its own, built from the client's settings (server, credentials,
TLS, timeouts, ``max_connections``) with retries turned off: redis-py retries a command after a
connection error, which would apply a write twice, and backs off for seconds before failing on
a dead server. A call waits for a free connection rather than fail when the pool is full.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError
from redis.retry import Retry

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
    if _pack is None:
        packed: list[bytes] = conn.pack_commands(commands)
        return packed
    return [_pack(command) for command in commands]


def _own_pool(pool: Any, plain: type[Any], blocking: type[Any], retry: Any, **settings: Any) -> Any:
    """A pool like ``pool`` (the client's), without retries, that waits for a free connection
    where the client's would raise "Too many connections" (redis-py 8 caps a plain pool at 100
    connections): a thousand concurrent calls queue for the client's ``max_connections``.
    ``settings`` override the client's connection settings."""
    if type(pool) not in (plain, blocking):  # Sentinel and other pools: used as they are
        return pool
    kwargs = {**pool.connection_kwargs, "retry": retry, **settings}
    if type(pool) is plain and pool.max_connections >= _UNBOUNDED:  # never full (redis-py < 8)
        return plain(connection_class=pool.connection_class, max_connections=pool.max_connections, **kwargs)
    return blocking(
        connection_class=pool.connection_class,
        max_connections=pool.max_connections,
        timeout=pool.timeout if type(pool) is blocking else None,  # a caller's own wait limit stays
        **kwargs,
    )


_UNBOUNDED = 2**31
"""redis-py's ``max_connections`` of a pool made without one, before redis-py 8."""


class SyncTransport:
    """Round trips over a `redis.Redis` client's connections."""

    def __init__(self, client: redis.Redis) -> None:
        self.pool = _own_pool(
            client.connection_pool, redis.ConnectionPool, redis.BlockingConnectionPool, Retry(NoBackoff(), 0)
        )
        if self.pool is not client.connection_pool:
            weakref.finalize(client, self.pool.disconnect)

    def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`)."""
        pool = self.pool
        try:
            conn = pool.get_connection()
        except _FAILURES as exc:
            raise TransportFailure(f"cannot reach Redis: {exc}", sent=False) from exc
        try:
            conn.send_packed_command(_packed(conn, commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(conn.read_response(disable_decoding=True))
                except ResponseError as exc:
                    replies.append(error_reply(exc))
            return replies
        except _FAILURES as exc:
            conn.disconnect()
            raise TransportFailure(str(exc), sent=True) from exc
        except BaseException:
            conn.disconnect()  # interrupted mid-reply: the connection's state is unknown
            raise
        finally:
            pool.release(conn)

    def close(self) -> None:
        """Close the transport's own connections."""
        self.pool.disconnect()


class AsyncTransport:
    """Round trips over a `redis.asyncio.Redis` client's connections."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client_pool = client.connection_pool
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        settings = self.client_pool.connection_kwargs
        self.timeout: float | None = None
        self._settings: dict[str, Any] = {}
        if type(self.client_pool) in (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool):
            # One deadline per round trip instead of redis-py's per command: its connection
            # runs every write of a connection with a socket_timeout in `asyncio.wait_for` (a
            # task of its own) and every read in a timeout context, ~20 µs a call here
            # (docs/explanation/benchmarks-asyncio.md). Connecting keeps its own limit.
            self.timeout = settings.get("socket_timeout")
            connect = settings.get("socket_connect_timeout")
            self._settings = {"socket_timeout": None, "socket_connect_timeout": connect or self.timeout}

    @property
    def pool(self) -> Any:
        """The running event loop's pool: asyncio connections belong to the loop that opened
        them, so a client connected once (at import time, say) serves every loop that comes
        along (a test's, a reloaded server's) with connections of its own."""
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = self._pools[loop] = _own_pool(
                self.client_pool,
                redis.asyncio.ConnectionPool,
                redis.asyncio.BlockingConnectionPool,
                redis.asyncio.retry.Retry(NoBackoff(), 0),
                **self._settings,
            )
        return pool

    async def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`)."""
        pool = self.pool
        try:
            conn = await pool.get_connection()
        except _FAILURES as exc:
            raise TransportFailure(f"cannot reach Redis: {exc}", sent=False) from exc
        try:
            async with asyncio.timeout(self.timeout):
                await conn.send_packed_command(_packed(conn, commands))
                replies: list[Any] = []
                for _ in commands:
                    try:
                        replies.append(await conn.read_response(disable_decoding=True))
                    except ResponseError as exc:
                        replies.append(error_reply(exc))
            return replies
        except _FAILURES as exc:  # the deadline's TimeoutError is an OSError too
            await conn.disconnect()
            if isinstance(exc, TimeoutError):  # the same exception as redis-py's own deadline
                late = redis.TimeoutError(f"Timeout reading from Redis after {self.timeout} s")
                raise TransportFailure(str(late), sent=True) from late
            raise TransportFailure(str(exc), sent=True) from exc
        except BaseException:
            await conn.disconnect()  # cancelled mid-reply: the connection's state is unknown
            raise
        finally:
            await pool.release(conn)

    async def close(self) -> None:
        """Close the transport's own connections of this event loop (and forget the others')."""
        pool = self.pool
        self._pools.clear()
        await pool.disconnect()
