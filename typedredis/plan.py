"""What the pure core hands to an executor: script calls, grouped into operations.

An *operation* is a generator that yields batches of `ScriptCall` and receives, for each batch,
the list of replies (in order). Its return value is the operation's result. Executors (sync
today, async tomorrow) only send batches and feed back replies, so every semantic decision
(what to send, how to read the reply) is made once, here in the core.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
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
Operation: TypeAlias = Generator[Batch | Pull, list[Any], R]




def single(call: ScriptCall) -> Generator[Batch, list[Any], Any]:
    """An operation of exactly one call; returns the call's reply."""
    replies = yield (call,)
    return replies[0]


def together(*operations: Operation[Any]) -> Operation[list[Any]]:
    """Run read operations side by side: each round trip carries the next batch of every one
    that is not finished, so two one-call queries take one round trip. Returns their results.

    An error reply or a failure of the connection ends them all (meant for reads only).
    """
    results: list[Any] = [None] * len(operations)
    pending: dict[int, Batch] = {}

    def step(i: int, value: Any) -> None:
        try:
            batch = operations[i].send(value)
        except StopIteration as stop:
            results[i] = stop.value
            pending.pop(i, None)
            return
        if isinstance(batch, Pull):
            raise TypeError("together() runs read operations, which pull nothing")
        pending[i] = batch

    for i in range(len(operations)):
        step(i, None)
    while pending:
        order = list(pending)
        replies = yield [call for i in order for call in pending[i]]
        at = 0
        for i in order:
            size = len(pending[i])
            step(i, replies[at : at + size])
            at += size
    return results
