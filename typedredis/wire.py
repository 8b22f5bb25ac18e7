"""The reply policy: how an operation's script calls become commands, and what each reply means.

Pure: no I/O and no redis import. `drive` wraps an operation (batches of `ScriptCall`) into a
*wire*: a generator of batches of commands (``EVALSHA`` tuples, or ``EVAL`` when the server
does not know a script) that receives the raw replies, an `ErrorReply` standing for each error
reply. Executors only move those bytes: they send each batch, read its replies, and throw a
`TransportFailure` into the wire when the connection fails. Every decision is made here, once
for every executor (sync, async, cluster):

- ``NOSCRIPT`` means the call did not run: it is sent again with ``EVAL``, once;
- any other error reply becomes `ServerError` (thrown into the operation);
- a connection that fails before anything was sent becomes `Unavailable`; after a write was
  sent, `OutcomeUnknown` (never re-sent: the write may have been applied); after only reads
  were sent, `Unavailable`.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar

from .errors import OutcomeUnknown, ServerError, Unavailable, eviction_warning
from .plan import Batch, Call, Operation, Pull, RawCall
from .scripts import script

R = TypeVar("R")

Command: TypeAlias = tuple[Any, ...]
"""One command as sent: ``("EVALSHA", sha, numkeys, *keys, *args)``."""
Wire: TypeAlias = Generator[list[Command] | Pull, list[Any], R]
"""What executors drive: batches of commands out, raw replies (or `ErrorReply`) back in; and
an operation's `Pull` requests, which the executor answers from the iterable it was given."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error reply of the server: its code (``"NOSCRIPT"``, ``"OOM"``, ``"WRONGTYPE"``...) and
    its whole text, starting with the code (transports put back a code the client library took off)."""

    code: str
    text: str


class TransportFailure(Exception):
    """Raised by a transport (into the wire) when the connection fails during a round trip.

    ``sent`` is False only when nothing of the batch can have reached the server (the
    connection could not be made). The client library's exception is ``__cause__``.
    """

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


def command(call: Call, eval_source: bool = False) -> Command:
    """The command of one call: ``EVALSHA`` (or ``EVAL`` with the source), or a raw command."""
    if isinstance(call, RawCall):
        return call.command
    loaded = script(call.script)
    head: tuple[Any, ...] = ("EVAL", loaded.source) if eval_source else ("EVALSHA", loaded.sha)
    return (*head, len(call.keys), *call.keys, *call.args)


def drive(operation: Operation[R]) -> Wire[R]:
    """Run ``operation`` as a wire, deciding what every reply and failure means (see module)."""
    try:
        batch = next(operation)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]  # the operation's declared result
    while True:
        try:
            if isinstance(batch, Pull):
                replies = yield from _pull(batch)
            else:
                replies = yield from _round_trip(batch)
        except Exception as exc:  # a refusal, a failed connection, or the iterable's own error
            try:
                batch = operation.throw(exc)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]  # the operation's declared result
            continue
        try:
            batch = operation.send(replies)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]  # the operation's declared result


def _pull(request: Pull) -> Generator[Pull, list[Any], list[Any]]:
    """The next items of the operation's iterable; interrupted meanwhile, `Unavailable`."""
    try:
        return (yield request)
    except TransportFailure as failure:  # an interruption between two calls: nothing in flight
        cause = failure.__cause__ or failure
        raise Unavailable(f"{failure} between two calls; nothing was in flight") from cause


def _round_trip(batch: Batch) -> Generator[list[Command], list[Any], list[Any]]:
    """Send one batch; re-send the calls the server answered NOSCRIPT with ``EVAL``; raise the
    first error reply as `ServerError`, and a failed connection as `Unavailable`/`OutcomeUnknown`."""
    replies = yield from _send(batch, [command(call) for call in batch])
    missing = [i for i, r in enumerate(replies) if isinstance(r, ErrorReply) and r.code == "NOSCRIPT"]
    if missing:
        again = yield from _send([batch[i] for i in missing], [command(batch[i], True) for i in missing])
        for i, reply in zip(missing, again, strict=True):
            replies[i] = reply
    for call, reply in zip(batch, replies, strict=True):
        if isinstance(reply, ErrorReply):
            name = call.script + ".lua" if not isinstance(call, RawCall) else str(call.command[0])
            raise ServerError(f"Redis refused {name}: {reply.text}", code=reply.code, reply=reply.text)
    return replies


def _send(batch: Sequence[Call], commands: list[Command]) -> Generator[list[Command], list[Any], list[Any]]:
    try:
        replies = yield commands
    except TransportFailure as failure:
        if failure.sent and any(call.writes for call in batch):
            raise OutcomeUnknown(_unknown_message(batch, failure)) from failure.__cause__ or failure
        what = "nothing was sent" if not failure.sent else "nothing was written"
        raise Unavailable(f"Redis did not answer ({failure}); {what}") from failure.__cause__ or failure
    return replies


def _unknown_message(batch: Sequence[Call], failure: TransportFailure) -> str:
    names = sorted({call.script for call in batch if call.writes and not isinstance(call, RawCall)})
    return (
        f"the connection failed after sending {', '.join(names)} ({failure}); the write may or may "
        "not have been applied, and typedredis did not re-send it"
    )


EVICTION_CHECK: Final = RawCall(("CONFIG", "GET", "maxmemory-policy"))


def check_server() -> Operation[None]:
    """Warn (once per executor, by the caller) when the server may evict typedredis' keys; a
    server that does not let us ask (an ACL, a managed service) gets no warning."""
    try:
        (reply,) = yield (EVICTION_CHECK,)
    except (ServerError, Unavailable):
        return
    if isinstance(reply, dict):
        policy = reply.get(b"maxmemory-policy", b"")
    else:
        policy = dict(zip(reply[::2], reply[1::2], strict=True)).get(b"maxmemory-policy", b"")
    warning = eviction_warning(policy.decode() if isinstance(policy, bytes) else str(policy))
    if warning is not None:
        warnings.warn(warning, stacklevel=6)
