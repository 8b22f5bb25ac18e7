"""Where the bytes go: a round trip of commands over a redis-py connection, sync or asyncio.

A transport takes a batch of commands, sends them in one write over a pooled connection,
reads one reply per command, and returns the replies: error replies as `wire.ErrorReply`
values (never raised), a failed connection as `wire.TransportFailure`. It decides nothing
else (see typedredis.wire). The two transports are mirror images, line for line.

Each transport uses a pool of its own, built from the client's settings (server, credentials,
TLS, timeouts) with retries turned off: redis-py retries a command after a connection error,
which would apply a write twice, and backs off for seconds before failing on a dead server.
"""

from __future__ import annotations

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


def _without_retries(pool: Any, kinds: tuple[type, ...], retry: Any) -> Any:
    if type(pool) not in kinds:  # Sentinel and other pools: used as they are
        return pool
    kwargs = {**pool.connection_kwargs, "retry": retry}
    if getattr(pool, "timeout", None) is not None and "Blocking" in type(pool).__name__:
        kwargs["timeout"] = pool.timeout
    return type(pool)(connection_class=pool.connection_class, max_connections=pool.max_connections, **kwargs)


class SyncTransport:
    """Round trips over a `redis.Redis` client's connections."""

    def __init__(self, client: redis.Redis) -> None:
        self.pool = _without_retries(
            client.connection_pool,
            (redis.ConnectionPool, redis.BlockingConnectionPool),
            Retry(NoBackoff(), 0),
        )
        if self.pool is not client.connection_pool:
            weakref.finalize(client, self.pool.disconnect)

    def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`)."""
        try:
            conn = self.pool.get_connection()
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
            self.pool.release(conn)

    def close(self) -> None:
        """Close the transport's own connections."""
        self.pool.disconnect()


class AsyncTransport:
    """Round trips over a `redis.asyncio.Redis` client's connections."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.pool = _without_retries(
            client.connection_pool,
            (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool),
            redis.asyncio.retry.Retry(NoBackoff(), 0),
        )

    async def round_trip(self, commands: list[Command]) -> list[Any]:
        """Send ``commands`` in one write; their replies (error replies as `ErrorReply`)."""
        try:
            conn = await self.pool.get_connection()
        except _FAILURES as exc:
            raise TransportFailure(f"cannot reach Redis: {exc}", sent=False) from exc
        try:
            await conn.send_packed_command(_packed(conn, commands))
            replies: list[Any] = []
            for _ in commands:
                try:
                    replies.append(await conn.read_response(disable_decoding=True))
                except ResponseError as exc:
                    replies.append(error_reply(exc))
            return replies
        except _FAILURES as exc:
            await conn.disconnect()
            raise TransportFailure(str(exc), sent=True) from exc
        except BaseException:
            await conn.disconnect()  # cancelled mid-reply: the connection's state is unknown
            raise
        finally:
            await self.pool.release(conn)

    async def close(self) -> None:
        """Close the transport's own connections."""
        await self.pool.disconnect()
