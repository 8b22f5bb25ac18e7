"""What the pure core hands to an executor: script calls, grouped into operations.

An *operation* is a generator that yields batches of `ScriptCall` and receives, for each batch,
the list of replies (in order). Its return value is the operation's result. Executors (sync
and asyncio, over a server or a cluster) only send batches and feed back replies, so every
semantic decision (what to send, how to read the reply) is made once, here in the core. A
read may also be sent `Ahead` and its replies collected later (`COLLECT`, `one_ahead`), and
`reset` `Pull`s its objects from the iterable the executor was given.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

R = TypeVar("R")

Arg: TypeAlias = bytes | str | int


@dataclass(frozen=True, slots=True)
class ScriptCall:
    """One call of a bundled Lua script: ``EVALSHA <sha of script> len(keys) *keys *args``."""

    script: str
    """The script's file name without ``.lua``."""
    keys: tuple[bytes, ...]
    args: tuple[Arg, ...]
    writes: bool
    """True when the call changes data: an executor must never send it twice."""
    head: tuple[Arg, ...] = ()
    """Constants compiled into the script for this caller (its ``HEAD``: save.lua's model
    schema), which then need not travel as arguments: see `typedredis.scripts.script`."""


@dataclass(frozen=True, slots=True)
class RawCall:
    """A plain command (no script), such as ``CONFIG GET maxmemory-policy``: read-only."""

    command: tuple[Arg, ...]
    writes: bool = False
    follows: bool = False
    """True when the reply means something only if the command runs after the call before it in
    its batch (a read that checks the previous one): whenever that call is sent again (a
    cluster's redirect), this one is sent again after it."""


@dataclass(frozen=True, slots=True)
class Pull:
    """Not a call: an operation's request for the next ``count`` items of the iterable it was
    given (`reset` streams its objects this way, from a sync or an async iterable). The
    executor answers with a list: fewer than ``count`` items means the iterable is exhausted.
    An exception of the iterable is thrown into the operation."""

    count: int


Call: TypeAlias = ScriptCall | RawCall
Batch: TypeAlias = Sequence[Call]


@dataclass(frozen=True, slots=True)
class Ahead:
    """Send ``batch`` now and go on without its replies: the operation receives an empty list,
    does its own work (decodes the reply before) while the server runs the batch, then yields
    `COLLECT` for the replies. Reads only, one batch ahead at a time: whatever else the
    operation yields first has the replies read and dropped before it (typedredis.wire). The
    server still holds one call of ours at a time: a query's chunk calls go one after another,
    each sent as soon as the reply before it has arrived."""

    batch: Batch


@dataclass(frozen=True, slots=True)
class Collect:
    """Not a call: the replies of the batch sent `Ahead`, as a batch's replies (the same re-sends
    and errors, raised here)."""


COLLECT = Collect()

Operation: TypeAlias = Generator[Batch | Pull | Ahead | Collect, list[Any], R]


def single(call: ScriptCall) -> Generator[Batch, list[Any], Any]:
    """An operation of exactly one call; returns the call's reply."""
    replies = yield (call,)
    return replies[0]


def one_ahead(calls: Sequence[Call], absorb: Callable[[Any], bool | None]) -> Operation[bool]:
    """Read ``calls`` one after another, each sent `Ahead` as soon as the reply before it has
    arrived, and hand that reply to ``absorb`` while the server runs the next call. Stops when
    ``absorb`` returns False (the call ahead then has its reply dropped); False if it did.
    A single call is a plain round trip."""
    if len(calls) <= 1:
        replies = (yield (calls[0],)) if calls else []
        return all(absorb(reply) is not False for reply in replies)
    yield Ahead((calls[0],))
    for k in range(len(calls)):
        (reply,) = yield COLLECT
        if k + 1 < len(calls):
            yield Ahead((calls[k + 1],))
        if absorb(reply) is False:
            return False
    return True


def together(*operations: Operation[Any]) -> Operation[list[Any]]:
    """Run read operations side by side: each round trip carries the next batch of every one
    that is not finished, so two one-call queries take one round trip. Returns their results.
    A batch one of them sends `Ahead` goes in the next round trip like any other, its replies
    kept for its `COLLECT`.

    An error reply or a failure of the connection ends them all (meant for reads only).
    """
    results: list[Any] = [None] * len(operations)
    pending: dict[int, Batch] = {}
    ahead: set[int] = set()
    held: dict[int, list[Any]] = {}

    def step(i: int, value: Any) -> None:
        while True:
            try:
                batch = operations[i].send(value)
            except StopIteration as stop:
                results[i] = stop.value
                pending.pop(i, None)
                return
            if isinstance(batch, Collect):
                value = held.pop(i)
                continue
            if isinstance(batch, Pull):
                raise TypeError("together() runs read operations, which pull nothing")
            if isinstance(batch, Ahead):
                ahead.add(i)
                batch = batch.batch
            pending[i] = batch
            return

    for i in range(len(operations)):
        step(i, None)
    while pending:
        order = list(pending)
        replies = yield [call for i in order for call in pending[i]]
        at = 0
        for i in order:
            size = len(pending[i])
            part = replies[at : at + size]
            at += size
            if i in ahead:
                ahead.discard(i)
                held[i] = part
                part = []
            step(i, part)
    return results
