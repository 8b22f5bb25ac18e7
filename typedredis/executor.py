"""The synchronous executor: sends an operation's batches over one pooled redis-py connection.

It bypasses redis-py's command retries on purpose: redis-py re-sends a command after a
connection error, which would apply a save or a delete twice. Here a batch is sent once; if
the connection fails after a write was sent, the caller gets `OutcomeUnknown`. Scripts are
called with EVALSHA and re-sent with EVAL only when the server answers NOSCRIPT (which
means the script did not run).
"""

from __future__ import annotations

import re
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, ResponseError
from redis.retry import Retry

from .errors import ConfigurationError, OutcomeUnknown, ServerError, Unavailable, eviction_warning
from .plan import Batch, Operation
from .scripts import script

_hiredis_pack: Callable[[tuple[Any, ...]], bytes] | None
try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # pragma: no cover - hiredis is an optional speed-up
    _hiredis_pack = None

R = TypeVar("R")


class SyncExecutor:
    """Runs operations on a `redis.Redis` client's connection pool."""

    def __init__(self, client: redis.Redis) -> None:
        if not isinstance(client, redis.Redis):
            raise ConfigurationError(
                f"typedredis needs a redis.Redis client, got {type(client).__qualname__}"
                " (Redis Cluster clients are not supported yet)"
            )
        self.client = client
        self._pool = _pool_without_retries(client.connection_pool)
        if self._pool is not client.connection_pool:
            weakref.finalize(client, self._pool.disconnect)
        self._checked = False

    def run(self, operation: Operation[R]) -> R:
        """Drive ``operation``: send each batch it yields and send back the replies."""
        try:
            batch = next(operation)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        while True:
            try:
                replies = self.execute(batch)
            except BaseException as exc:
                try:
                    batch = operation.throw(exc)
                except StopIteration as stop:
                    return stop.value  # type: ignore[no-any-return]
                continue
            try:
                batch = operation.send(replies)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]

    def execute(self, batch: Batch) -> list[Any]:
        """Send ``batch`` as one pipeline and return the replies; raise the first error reply."""
        if not self._checked:
            self._checked = True
            self._check_server()
        replies = self._send(batch, [("EVALSHA", script(c.script).sha) for c in batch])
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            retry = [batch[i] for i in missing]
            again = self._send(retry, [("EVAL", script(c.script).source) for c in retry])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        for call, reply in zip(batch, replies, strict=True):
            if isinstance(reply, ResponseError):
                code, text = _error_reply(reply)
                message = f"Redis refused {call.script}.lua: {text}"
                raise ServerError(message, code=code, reply=text) from reply
        return replies

    def _send(self, batch: Batch, heads: list[tuple[str, str | bytes]]) -> list[Any]:
        try:
            conn: Any = self._pool.get_connection()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            raise Unavailable(f"cannot reach Redis ({exc}); nothing was sent") from exc
        try:
            commands = [(*head, len(c.keys), *c.keys, *c.args) for head, c in zip(heads, batch, strict=True)]
            try:
                conn.send_packed_command(_pack(conn, commands))
                replies: list[Any] = []
                for _ in commands:
                    try:
                        replies.append(conn.read_response(disable_decoding=True))
                    except ResponseError as exc:
                        replies.append(exc)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                conn.disconnect()
                if any(call.writes for call in batch):
                    raise OutcomeUnknown(_unknown_message(batch, exc)) from exc
                raise Unavailable(f"Redis did not answer a read ({exc}); nothing was written") from exc
            except BaseException:
                conn.disconnect()
                raise
            return replies
        finally:
            self._pool.release(conn)


    def _check_server(self) -> None:
        """Warn once if the server may evict typedredis' keys (when it lets us ask)."""
        try:
            conn: Any = self._pool.get_connection()
        except (redis.RedisError, OSError):  # the call itself will say what is wrong
            return
        try:
            conn.send_command("CONFIG", "GET", "maxmemory-policy")
            reply = conn.read_response(disable_decoding=True)
        except (redis.RedisError, OSError):  # no CONFIG (an ACL, a managed server): no warning
            conn.disconnect()
            return
        finally:
            self._pool.release(conn)
        policy = dict(zip(reply[::2], reply[1::2], strict=True)) if isinstance(reply, list) else dict(reply)
        warning = eviction_warning(policy.get(b"maxmemory-policy", b"").decode())
        if warning is not None:
            warnings.warn(warning, stacklevel=4)


def _pool_without_retries(pool: redis.ConnectionPool) -> redis.ConnectionPool:
    """A pool like ``pool`` (same server, credentials, TLS and timeouts) whose connections never
    retry a connect or a command: a dead server then fails a call within the client's
    ``socket_connect_timeout`` instead of after redis-py's backoff (seconds, whatever the
    timeout). Pools of other kinds (Sentinel...) are used as they are."""
    if type(pool) not in (redis.ConnectionPool, redis.BlockingConnectionPool):
        return pool
    kwargs = {**pool.connection_kwargs, "retry": Retry(NoBackoff(), 0)}
    if type(pool) is redis.BlockingConnectionPool:
        kwargs["timeout"] = pool.timeout
    return type(pool)(connection_class=pool.connection_class, max_connections=pool.max_connections, **kwargs)


def _pack(conn: Any, commands: Sequence[tuple[Any, ...]]) -> list[bytes]:
    # hiredis packs bytes/str/int arguments directly; redis-py's own packers first copy
    # every argument through a Python generator, which costs more than the packing.
    if _hiredis_pack is None:
        packed: list[bytes] = conn.pack_commands(commands)
        return packed
    return [_hiredis_pack(command) for command in commands]


_SCRIPT_ERROR = re.compile(r"^(?:Error running script \(call to [^)]*\): )?(?:@user_script:\s*\d+:\s*)*-?")


_CODES = {
    name: code
    for name, code in (
        ("OutOfMemoryError", "OOM"),
        ("NoPermissionError", "NOPERM"),
        ("ReadOnlyError", "READONLY"),
        ("ExecAbortError", "EXECABORT"),
        ("NoScriptError", "NOSCRIPT"),
        ("TryAgainError", "TRYAGAIN"),
        ("AskError", "ASK"),
        ("MovedError", "MOVED"),
        ("ClusterDownError", "CLUSTERDOWN"),
        ("ClusterCrossSlotError", "CROSSSLOT"),
        ("MasterDownError", "MASTERDOWN"),
    )
}
"""redis-py turns these error codes into exception classes and drops them from the text."""
_CODE = re.compile(r"^([A-Z][A-Z0-9]*) ")


def _error_reply(reply: ResponseError) -> tuple[str, str]:
    """The server's error code and text: without the "Error running script ...: @user_script:
    1: -" that Redis 6.2 puts before an error raised inside a script, and with the code
    redis-py took off."""
    text = _SCRIPT_ERROR.sub("", str(reply))
    code = _CODES.get(type(reply).__name__)
    if code is None:
        match = _CODE.match(text)
        code = match.group(1) if match else "ERR"
    elif not text.startswith(code + " "):
        text = f"{code} {text}"
    return code, text


def _unknown_message(batch: Batch, exc: BaseException) -> str:
    names = sorted({call.script for call in batch if call.writes})
    return (
        f"the connection failed after sending {', '.join(names)} ({exc}); the write may or may "
        "not have been applied, and typedredis did not re-send it"
    )
