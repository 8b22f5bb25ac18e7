"""The synchronous executor: sends an operation's batches over one pooled redis-py connection.

It bypasses redis-py's command retries on purpose: redis-py re-sends a command after a
connection error, which would apply a save or a delete twice. Here a batch is sent once; if
the connection fails after a write was sent, the caller gets `OutcomeUnknown`. Scripts are
called with EVALSHA and re-sent with EVAL only when the server answers NOSCRIPT (which
means the script did not run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.exceptions import NoScriptError, ResponseError

from .errors import ConfigurationError, OutcomeUnknown, ServerError, Unavailable
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
        self._pool = client.connection_pool

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
        replies = self._send(batch, [("EVALSHA", script(c.script).sha) for c in batch])
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            retry = [batch[i] for i in missing]
            again = self._send(retry, [("EVAL", script(c.script).source) for c in retry])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        for call, reply in zip(batch, replies, strict=True):
            if isinstance(reply, ResponseError):
                text = _error_text(str(reply))
                raise ServerError(f"Redis refused {call.script}.lua: {text}", reply=text) from reply
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


def _pack(conn: Any, commands: Sequence[tuple[Any, ...]]) -> list[bytes]:
    # hiredis packs bytes/str/int arguments directly; redis-py's own packers first copy
    # every argument through a Python generator, which costs more than the packing.
    if _hiredis_pack is None:
        packed: list[bytes] = conn.pack_commands(commands)
        return packed
    return [_hiredis_pack(command) for command in commands]


_SCRIPT_ERROR = re.compile(
    r"^Error running script \(call to [^)]*\): @user_script:\d+: (?:@user_script: \d+: )?"
)


def _error_text(text: str) -> str:
    """The server's own error, without the "Error running script ..." that Redis 6.2 puts before
    an error raised inside a script (Redis 7 appends its own trailer instead)."""
    return _SCRIPT_ERROR.sub("", text)


def _unknown_message(batch: Batch, exc: BaseException) -> str:
    names = sorted({call.script for call in batch if call.writes})
    return (
        f"the connection failed after sending {', '.join(names)} ({exc}); the write may or may "
        "not have been applied, and typedredis did not re-send it"
    )
