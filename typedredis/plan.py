"""What the pure core hands to an executor: script calls, grouped into operations.

An *operation* is a generator that yields batches of `ScriptCall` and receives, for each batch,
the list of replies (in order). Its return value is the operation's result. Executors (sync
today, async tomorrow) only send batches and feed back replies, so every semantic decision
(what to send, how to read the reply) is made once, here in the core.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias, TypeVar

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


Batch: TypeAlias = Sequence[ScriptCall]
Operation: TypeAlias = Generator[Batch, list[Any], R]


class Executor(Protocol):
    """Runs operations against one Redis deployment (see `typedredis.executor`)."""

    def run(self, operation: Operation[R]) -> R:
        """Drive ``operation`` to completion and return its result."""
        ...


def single(call: ScriptCall) -> Generator[Batch, list[Any], Any]:
    """An operation of exactly one call; returns the call's reply."""
    replies = yield (call,)
    return replies[0]


def together(*operations: Operation[Any]) -> Generator[Batch, list[Any], list[Any]]:
    """Run read operations side by side: each round trip carries the next batch of every one
    that is not finished, so two one-call queries take one round trip. Returns their results.

    An error reply or a failure of the connection ends them all (meant for reads only).
    """
    results: list[Any] = [None] * len(operations)
    pending: dict[int, Batch] = {}
    for i, operation in enumerate(operations):
        try:
            pending[i] = next(operation)
        except StopIteration as stop:
            results[i] = stop.value
    while pending:
        order = list(pending)
        replies = yield [call for i in order for call in pending[i]]
        at = 0
        for i in order:
            size = len(pending[i])
            try:
                pending[i] = operations[i].send(replies[at : at + size])
            except StopIteration as stop:
                results[i] = stop.value
                del pending[i]
            at += size
    return results
