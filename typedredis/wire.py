"""The reply policy: how an operation's script calls become commands, and what each reply means.

Pure: no I/O and no redis import. `drive` wraps an operation (batches of `ScriptCall`) into a
*wire*: a generator of batches of commands (``EVALSHA`` tuples, or ``EVAL`` when the server
does not know a script) that receives the raw replies, an `ErrorReply` standing for each error
reply. Executors only move those bytes: they send each batch, read its replies, and throw a
`TransportFailure` into the wire when the connection fails. Every decision is made here, once
for every executor (sync, async, cluster):

- ``NOSCRIPT`` means the call did not run: it is sent again with ``EVAL``, once;
- on Redis Cluster, ``MOVED``, ``ASK``, ``TRYAGAIN`` and ``CLUSTERDOWN`` mean the call did not
  run either: it is sent again (``MOVED`` at once, to the node named, which the transport has
  learned; the others after a `Pause`) until the deadline; then `Unavailable`. An ``ASK`` is
  not followed into the node importing the slot: a script there would find the keys not moved
  yet missing, so the call waits for the migration to end (see docs/how-to/scaling-out.md).
  A read that checks the call before it (`RawCall.follows`: a plain get's ``HGET`` of the
  generation) is sent again with that call, after it: a check never runs before what it checks;
- any other error reply becomes `ServerError` (thrown into the operation);
- a batch the operation sends `Ahead` goes out as a `Send` step and its replies come back at
  the operation's `COLLECT` (a `Receive` step); the rules above apply to them then, as if the
  batch had been sent at that moment. An operation that ends, or moves on (a query that starts
  over), with a batch ahead has its replies read and dropped first: a connection is never left
  with anything in flight;
- a connection that fails before anything was sent becomes `Unavailable`; after a write was
  sent, `OutcomeUnknown` (never re-sent: the write may have been applied); after only reads
  were sent, `Unavailable`. On a cluster, a node that fails before a call was sent (or
  while only reads were) is waited for as a redirect is: its replica may be taking over.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar

from .errors import OutcomeUnknown, ServerError, Unavailable, eviction_warning
from .plan import Ahead, Batch, Call, Collect, Operation, Pull, RawCall, ScriptCall
from .scripts import script

R = TypeVar("R")

Command: TypeAlias = tuple[Any, ...]
"""One command as sent: ``("EVALSHA", sha, numkeys, *keys, *args)``."""


@dataclass(frozen=True, slots=True)
class Pause:
    """Not a round trip: the executor waits ``seconds`` (a cluster is moving a slot or electing
    a primary), then sends the next batch."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Send:
    """Half a round trip: the executor writes ``commands`` on a connection it keeps, reads
    nothing, and answers None; the next `Receive` reads their replies from that connection."""

    commands: list[Command]


@dataclass(frozen=True, slots=True)
class Receive:
    """The other half: the replies of the commands of the last `Send`, read from its connection."""


RECEIVE: Final = Receive()

Wire: TypeAlias = Generator[list[Command] | Pull | Pause | Send | Receive, Any, R]
"""What executors drive: batches of commands out, raw replies (or `ErrorReply`) back in, in one
round trip or in two halves (`Send`, then `Receive`, with nothing else between them); an
operation's `Pull` requests, which the executor answers from the iterable it was given; and
`Pause` requests, which it answers by waiting."""

REDIRECTS: Final = frozenset({"MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN"})
"""Error codes of Redis Cluster that mean "not executed, send again"."""
DEADLINE: Final = 10.0
"""How long (seconds of `Pause`) a call may wait for a cluster to settle: longer than a slot
migration of a few hundred thousand objects, or a failover with the default node timeout."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error reply of the server: its code (``"NOSCRIPT"``, ``"OOM"``, ``"WRONGTYPE"``...) and
    its whole text, starting with the code (transports put back a code the client library took off)."""

    code: str
    text: str


class TransportFailure(Exception):
    """Raised by a transport (into the wire) when the connection fails during a round trip.

    ``sent`` is False only when nothing of the batch can have reached the server (the
    connection could not be made). ``settling`` is True when sending again later may reach
    another server: a cluster node failed (its slots may be failing over to a replica). The
    client library's exception is ``__cause__``.
    """

    def __init__(self, message: str, *, sent: bool, settling: bool = False) -> None:
        super().__init__(message)
        self.sent = sent
        self.settling = settling


def command(call: Call, eval_source: bool = False) -> Command:
    """The command of one call: ``EVALSHA`` (or ``EVAL`` with the source), or a raw command."""
    if isinstance(call, RawCall):
        return call.command
    loaded = script(call.script, call.head)
    head: tuple[Any, ...] = ("EVAL", loaded.source) if eval_source else ("EVALSHA", loaded.sha)
    return (*head, len(call.keys), *call.keys, *call.args)


def drive(operation: Operation[R], deadline: float = DEADLINE) -> Wire[R]:
    """Run ``operation`` as a wire, deciding what every reply and failure means (see module);
    a call redirected by a cluster is sent again for at most ``deadline`` seconds."""
    ahead: _Sent | None = None
    try:
        batch = next(operation)
        while True:
            try:
                if isinstance(batch, Collect):
                    if ahead is None:
                        raise TypeError("an operation collected replies of no batch sent ahead")
                    sent, ahead = ahead, None
                    replies = yield from _round_trip(sent.batch, deadline, sent)
                else:
                    if ahead is not None:  # moving on without them: read and forget them first
                        dropped, ahead = ahead, None
                        yield from _drop(dropped)
                    if isinstance(batch, Ahead):
                        ahead = yield from _send_ahead(batch.batch)
                        replies = []
                    elif isinstance(batch, Pull):
                        replies = yield from _pull(batch)
                    else:
                        replies = yield from _round_trip(batch, deadline)
            except Exception as exc:  # a refusal, a failed connection, or the iterable's own error
                batch = operation.throw(exc)
                continue
            batch = operation.send(replies)
    except StopIteration as stop:
        yield from _drop(ahead)
        return stop.value  # type: ignore[no-any-return]  # the operation's declared result
    except Exception:
        yield from _drop(ahead)
        raise


@dataclass(frozen=True, slots=True)
class _Sent:
    """A batch sent ahead: the failure that met its `Send`, if one did."""

    batch: Batch
    failure: TransportFailure | None


def _send_ahead(batch: Batch) -> Generator[Send, Any, _Sent]:
    if any(call.writes for call in batch):  # a write's outcome must be known before going on
        raise TypeError("only reads are sent ahead")
    try:
        yield Send([command(call, False) for call in batch])
    except TransportFailure as failure:  # decided at the COLLECT, as for a round trip
        return _Sent(batch, failure)
    return _Sent(batch, None)


def _drop(ahead: _Sent | None) -> Generator[Receive, Any, None]:
    """Read and forget the replies of a batch still ahead (its operation ended or moved on)."""
    if ahead is None or ahead.failure is not None:
        return
    with suppress(TransportFailure):  # the transport closed the connection: nothing is in flight
        yield RECEIVE


def _pull(request: Pull) -> Generator[Pull, list[Any], list[Any]]:
    """The next items of the operation's iterable; interrupted meanwhile, `Unavailable`."""
    try:
        return (yield request)
    except TransportFailure as failure:  # an interruption between two calls: nothing in flight
        cause = failure.__cause__ or failure
        raise Unavailable(f"{failure} between two calls; nothing was in flight") from cause


def _round_trip(
    batch: Batch, deadline: float, ahead: _Sent | None = None
) -> Generator[list[Command] | Pause | Receive, Any, list[Any]]:
    """Send one batch (or receive the replies of the batch sent ``ahead``); re-send the calls
    that did not run (``NOSCRIPT`` with ``EVAL``; a cluster's redirects, and calls a failing
    cluster node never ran, as they were); raise the first error reply as `ServerError`, and a
    failed connection as `Unavailable`/`OutcomeUnknown`."""
    if ahead is None:
        replies = yield from _send(batch, [command(call, False) for call in batch])  # (round 1)
    elif ahead.failure is not None:
        replies = _failed(batch, ahead.failure)
    else:
        replies = yield from _send(batch, RECEIVE)
    evaled: set[int] = set()
    waited = 0.0
    rounds = 1
    while True:
        failed = [i for i, r in enumerate(replies) if isinstance(r, ErrorReply) and _resend(r, i in evaled)]
        if not failed:
            break
        codes = {replies[i].code for i in failed}
        if rounds and codes & _WAITS and (rounds > 1 or codes - {"MOVED", "NOSCRIPT"}):  # not a first MOVED
            if waited >= deadline:
                raise Unavailable(_unsettled(batch, replies, failed, waited))
            pause = min(0.005 * 2 ** (rounds - 1), 0.1, max(deadline - waited, 0.001))
            yield from _pause(batch, replies, pause)
            waited += pause
        rounds += 1
        evaled.update(i for i in failed if replies[i].code == "NOSCRIPT")
        again = _with_followers(batch, failed)
        calls = [batch[i] for i in again]
        sent = yield from _send(calls, [command(batch[i], i in evaled) for i in again])
        for i, reply in zip(again, sent, strict=True):
            replies[i] = reply
    for call, reply in zip(batch, replies, strict=True):
        if isinstance(reply, ErrorReply):
            name = call.script + ".lua" if not isinstance(call, RawCall) else str(call.command[0])
            raise ServerError(f"Redis refused {name}: {reply.text}", code=reply.code, reply=reply.text)
    return replies


def _with_followers(batch: Batch, again: list[int]) -> list[int]:
    """``again`` and every call that `follows <RawCall>` one of them (answered or not): a
    check re-sent after the call it checks, never before."""
    chosen = set(again)
    for i in range(1, len(batch)):
        call = batch[i]
        if i - 1 in chosen and isinstance(call, RawCall) and call.follows:
            chosen.add(i)
    return sorted(chosen)


_WAITS: Final = REDIRECTS | {"UNSENT"}
"""Replies that mean the call did not run and can be sent again once the cluster settles
(``UNSENT``: a transport's reply for a call a failing cluster node never ran)."""


def _pause(batch: Batch, replies: list[Any], seconds: float) -> Generator[Pause, Any, None]:
    try:
        yield Pause(seconds)
    except TransportFailure as failure:  # interrupted while waiting: nothing is in flight
        ran = [call for call, reply in zip(batch, replies, strict=True) if not isinstance(reply, ErrorReply)]
        if any(call.writes for call in ran):
            raise OutcomeUnknown(_unknown_message(ran, failure)) from failure.__cause__ or failure
        raise Unavailable(f"{failure} while waiting for the cluster; nothing was written") from (
            failure.__cause__ or failure
        )


def _resend(reply: ErrorReply, evaled: bool) -> bool:
    return reply.code in _WAITS or (reply.code == "NOSCRIPT" and not evaled)


def _unsettled(batch: Batch, replies: list[Any], again: list[int], waited: float) -> str:
    first = replies[again[0]]
    names = sorted(
        {call.script if isinstance(call, ScriptCall) else "a command" for call in (batch[i] for i in again)}
    )
    ran = sum(1 for i, call in enumerate(batch) if call.writes and not isinstance(replies[i], ErrorReply))
    written = (
        "nothing was written"
        if not ran
        else f"they wrote nothing, but {ran} other write(s) sent with them ran"  # the slot changed between
    )
    return (
        f"the Redis Cluster could not run {', '.join(names)} for {waited:.1f} s (last: {first.text}); "
        f"{written}. The model's slot is migrating or its node failing over for longer "
        "than the deadline (typedredis.connect(..., deadline=...))"
    )


def _send(
    batch: Sequence[Call], step: list[Command] | Receive
) -> Generator[list[Command] | Receive, list[Any], list[Any]]:
    """The replies to ``step`` (the batch's commands, or the `Receive` of the batch sent ahead)."""
    try:
        replies = yield step
    except TransportFailure as failure:
        return _failed(batch, failure)
    return replies


def _failed(batch: Sequence[Call], failure: TransportFailure) -> list[Any]:
    """What a failed connection means for ``batch``: replies that send it again (a cluster
    node failing before a call was sent, or while only reads were), or the error to raise."""
    if failure.settling and not (failure.sent and any(call.writes for call in batch)):
        return [ErrorReply("UNSENT", f"UNSENT {failure}")] * len(batch)  # safe to send again
    if failure.sent and any(call.writes for call in batch):
        raise OutcomeUnknown(_unknown_message(batch, failure)) from failure.__cause__ or failure
    what = "nothing was sent" if not failure.sent else "nothing was written"
    raise Unavailable(f"Redis did not answer ({failure}); {what}") from failure.__cause__ or failure


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
