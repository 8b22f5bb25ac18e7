"""typedredis.wire without a server: the reply policy every executor shares, driven by hand.

A wire yields batches of commands and receives raw replies (an `ErrorReply` standing for each
error reply), or has a `TransportFailure` thrown in when the connection fails; these tests
play the executor's part with canned replies, as peewee tests its SQL without a database.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from typedredis import OutcomeUnknown, ServerError, TypedRedisWarning, Unavailable
from typedredis.plan import COLLECT, Ahead, Call, Operation, Pull, RawCall, ScriptCall
from typedredis.scripts import script
from typedredis.wire import RECEIVE, ErrorReply, Send, TransportFailure, check_server, command, drive

READ = ScriptCall("get", (b"{k}:meta",), (0, 1), writes=False)
WRITE = ScriptCall("delete", (b"{k}:meta",), (0, 0, 0, 1), writes=True)


def calls(*batch: Call) -> Operation[Any]:
    """An operation of one batch that returns its replies (or what was thrown into it)."""
    try:
        replies = yield batch
    except Exception as exc:
        return exc
    return replies


def finish(wire: Generator[Any, Any, Any], replies: Any) -> Any:
    """Send ``replies`` and expect the wire to finish; its result."""
    with pytest.raises(StopIteration) as stop:
        wire.send(replies)
    return stop.value.value


def test_a_call_is_sent_as_evalsha_with_its_keys_and_arguments() -> None:
    wire = drive(calls(WRITE))
    (sent,) = next(wire)
    assert sent == ("EVALSHA", script("delete").sha, 1, b"{k}:meta", 0, 0, 0, 1)
    assert finish(wire, [1]) == [1]


def test_noscript_is_sent_again_with_eval_once_and_only_for_that_call() -> None:
    wire = drive(calls(READ, WRITE, READ))
    first = next(wire)
    assert [c[0] for c in first] == ["EVALSHA"] * 3
    again = wire.send(["r0", ErrorReply("NOSCRIPT", "NOSCRIPT No matching script."), "r2"])
    assert again == [command(WRITE, eval_source=True)]
    assert again[0][:2] == ("EVAL", script("delete").source)
    assert finish(wire, ["r1"]) == ["r0", "r1", "r2"], "replies keep the calls' order"


def test_noscript_twice_is_a_server_error_not_a_loop() -> None:
    wire = drive(calls(READ))
    next(wire)
    wire.send([ErrorReply("NOSCRIPT", "NOSCRIPT No matching script.")])
    thrown = finish(wire, [ErrorReply("NOSCRIPT", "NOSCRIPT No matching script.")])
    assert isinstance(thrown, ServerError) and thrown.code == "NOSCRIPT"


def test_an_error_reply_is_thrown_into_the_operation_as_a_server_error() -> None:
    wire = drive(calls(READ, WRITE))
    next(wire)
    thrown = finish(
        wire, ["ok", ErrorReply("OOM", "OOM command not allowed when used memory > 'maxmemory'.")]
    )
    assert isinstance(thrown, ServerError)
    assert thrown.code == "OOM"
    assert "delete.lua" in str(thrown), "the error names the script that was refused"


def test_an_operation_that_does_not_catch_a_server_error_raises_it() -> None:
    def strict() -> Operation[Any]:
        return (yield (READ,))

    wire = drive(strict())
    next(wire)
    with pytest.raises(ServerError, match=r"get\.lua"):
        wire.send([ErrorReply("WRONGTYPE", "WRONGTYPE Operation against a key holding the wrong kind")])


@pytest.mark.parametrize(
    ("batch", "sent", "raised", "says"),
    [
        ((WRITE,), False, Unavailable, "nothing was sent"),
        ((READ,), False, Unavailable, "nothing was sent"),
        ((READ,), True, Unavailable, "nothing was written"),
        ((READ, WRITE), True, OutcomeUnknown, "delete"),
        ((WRITE,), True, OutcomeUnknown, "did not re-send"),
    ],
    ids=["write-unsent", "read-unsent", "read-sent", "mixed-sent", "write-sent"],
)
def test_a_failed_connection_is_unavailable_or_an_unknown_outcome(
    batch: tuple[ScriptCall, ...], sent: bool, raised: type[Exception], says: str
) -> None:
    cause = OSError("connection reset")
    failure = TransportFailure("connection reset", sent=sent)
    failure.__cause__ = cause
    wire = drive(calls(*batch))
    next(wire)
    with pytest.raises(StopIteration) as stop:
        wire.throw(failure)
    thrown = stop.value.value
    assert type(thrown) is raised
    assert says in str(thrown)
    assert thrown.__cause__ is cause, "the client library's error stays chained"


def test_a_failure_is_never_answered_by_sending_the_write_again() -> None:
    wire = drive(calls(WRITE))
    next(wire)
    with pytest.raises(StopIteration):
        wire.throw(TransportFailure("timeout", sent=True))  # finished: nothing more was sent


def test_pull_requests_pass_through_to_the_executor() -> None:
    def pulling() -> Operation[Any]:
        items = yield Pull(3)
        (reply,) = yield (WRITE,)
        return items, reply

    wire = drive(pulling())
    assert next(wire) == Pull(3)
    assert [c[0] for c in wire.send(["a", "b"])] == ["EVALSHA"]
    assert finish(wire, [7]) == (["a", "b"], 7)


def test_an_interruption_while_pulling_items_is_unavailable_with_nothing_in_flight() -> None:
    def pulling() -> Operation[Any]:
        try:
            yield Pull(3)
        except Unavailable as exc:
            return exc
        raise AssertionError("not interrupted")  # pragma: no cover

    cancelled = KeyboardInterrupt()
    failure = TransportFailure("interrupted by KeyboardInterrupt", sent=True)
    failure.__cause__ = cancelled
    wire = drive(pulling())
    next(wire)
    with pytest.raises(StopIteration) as stop:
        wire.throw(failure)
    assert "nothing was in flight" in str(stop.value.value)
    assert stop.value.value.__cause__ is cancelled


# -- a batch sent ahead: written at once, read at its COLLECT -------------------------------------


def ahead(*batch: Call, work: list[str] | None = None) -> Operation[Any]:
    """Sends ``batch`` ahead, does its own ``work`` meanwhile, then collects the replies (or
    returns what was thrown in at either point)."""
    try:
        yield Ahead(batch)
        if work is not None:
            work.append("decoded the reply before")
        return (yield COLLECT)
    except Exception as exc:
        return exc


def test_a_batch_sent_ahead_is_written_first_and_read_at_its_collect() -> None:
    work: list[str] = []
    wire = drive(ahead(READ, READ, work=work))
    assert next(wire) == Send([command(READ), command(READ)])
    assert work == []
    assert wire.send(None) is RECEIVE, "the operation worked between the two halves"
    assert work == ["decoded the reply before"]
    assert finish(wire, ["r0", "r1"]) == ["r0", "r1"]


@pytest.mark.parametrize(
    ("code", "again"), [("NOSCRIPT", command(READ, eval_source=True)), ("MOVED", command(READ))]
)
def test_a_call_sent_ahead_that_did_not_run_is_sent_again_at_its_collect(code: str, again: Any) -> None:
    wire = drive(ahead(READ))
    next(wire)
    wire.send(None)
    assert wire.send([ErrorReply(code, f"{code} 3999 127.0.0.1:7001")]) == [again], "a plain round trip"
    assert finish(wire, ["r"]) == ["r"]


def test_an_error_reply_to_a_call_sent_ahead_is_raised_at_its_collect() -> None:
    wire = drive(ahead(READ))
    next(wire)
    wire.send(None)
    thrown = finish(wire, [ErrorReply("ERR", "ERR boom")])
    assert isinstance(thrown, ServerError) and thrown.code == "ERR"


@pytest.mark.parametrize("half", ["send", "receive"])
def test_a_connection_failing_under_a_batch_ahead_is_unavailable_at_its_collect(half: str) -> None:
    cause = OSError("connection reset")
    failure = TransportFailure("connection reset", sent=True)
    failure.__cause__ = cause
    work: list[str] = []
    wire = drive(ahead(READ, work=work))
    next(wire)
    if half == "receive":
        wire.send(None)
    with pytest.raises(StopIteration) as stop:
        wire.throw(failure)  # after a failed Send, nothing is left to receive
    thrown = stop.value.value
    assert type(thrown) is Unavailable and "nothing was written" in str(thrown)
    assert thrown.__cause__ is cause
    assert work == ["decoded the reply before"], "the failure waits for the collect"


def test_a_write_is_never_sent_ahead() -> None:
    wire = drive(ahead(READ, WRITE))
    with pytest.raises(StopIteration) as stop:
        next(wire)  # nothing was sent
    assert isinstance(stop.value.value, TypeError)


def test_replies_left_ahead_are_read_and_dropped_before_anything_else_is_sent() -> None:
    def moving_on() -> Operation[Any]:
        yield Ahead((READ,))
        (reply,) = yield (WRITE,)  # a query that starts over, say
        return reply

    wire = drive(moving_on())
    assert isinstance(next(wire), Send)
    assert wire.send(None) is RECEIVE, "the dropped replies are read off the connection first"
    assert wire.send(["stale"]) == [command(WRITE)]
    assert finish(wire, ["fresh"]) == "fresh"


@pytest.mark.parametrize("ending", ["returns", "raises"])
def test_an_operation_that_ends_with_a_batch_ahead_leaves_nothing_in_flight(ending: str) -> None:
    def leaving() -> Operation[str]:
        yield Ahead((READ,))
        if ending == "raises":
            raise ValueError("a corrupt row")
        return "done"

    wire = drive(leaving())
    next(wire)
    assert wire.send(None) is RECEIVE
    if ending == "returns":
        assert finish(wire, ["dropped"]) == "done"
    else:
        with pytest.raises(ValueError, match="corrupt row"):
            wire.send(["dropped"])


def test_a_failure_while_dropping_replies_ahead_changes_nothing() -> None:
    def leaving() -> Operation[str]:
        yield Ahead((READ,))
        return "done"

    wire = drive(leaving())
    next(wire)
    wire.send(None)
    with pytest.raises(StopIteration) as stop:
        wire.throw(TransportFailure("connection reset", sent=True))  # the transport closed it
    assert stop.value.value == "done"


def test_collecting_with_nothing_sent_ahead_is_a_programming_error() -> None:
    def confused() -> Operation[Any]:
        return (yield COLLECT)

    with pytest.raises(TypeError, match="sent ahead"):
        next(drive(confused()))


def test_an_operation_without_calls_needs_no_round_trip() -> None:
    def free() -> Operation[int]:
        return 42
        yield  # pragma: no cover - a generator that returns at once

    with pytest.raises(StopIteration) as stop:
        next(drive(free()))
    assert stop.value.value == 42


def test_raw_calls_are_sent_as_they_are() -> None:
    raw = RawCall(("CONFIG", "GET", "maxmemory-policy"))
    wire = drive(calls(raw))
    assert next(wire) == [("CONFIG", "GET", "maxmemory-policy")]


READ_OBJECT = RawCall(("HMGET", b"{k}:3:o:1", "name"))
CHECK_GEN = RawCall(("HGET", b"{k}:meta", "gen"), follows=True)


@pytest.mark.parametrize("code", ["MOVED", "ASK", "TRYAGAIN"])
def test_a_check_that_follows_a_redirected_read_is_sent_again_after_it(code: str) -> None:
    # the check ran, but before the read it checks will run: both go again, in order
    wire = drive(calls(READ, READ_OBJECT, CHECK_GEN))
    next(wire)
    refusal = ErrorReply(code, f"{code} 1 127.0.0.1:7001")
    step = wire.send(["r0", refusal, b"3"])
    while not isinstance(step, list):  # a Pause before TRYAGAIN/ASK is re-sent
        step = wire.send(None)
    assert step == [READ_OBJECT.command, CHECK_GEN.command]
    assert finish(wire, [[b"n"], b"4"]) == ["r0", [b"n"], b"4"], "the replies of the second sending"


def test_a_redirected_check_is_sent_again_alone_after_the_read_it_follows() -> None:
    wire = drive(calls(READ_OBJECT, CHECK_GEN))
    next(wire)
    again = wire.send([[b"n"], ErrorReply("MOVED", "MOVED 1 127.0.0.1:7001")])
    assert again == [CHECK_GEN.command]
    assert finish(wire, [b"3"]) == [[b"n"], b"3"]


def test_a_plain_raw_call_after_a_redirected_one_is_not_sent_again() -> None:
    plain = RawCall(("HGET", b"{k}:meta", "gen"))
    wire = drive(calls(READ_OBJECT, plain))
    next(wire)
    again = wire.send([ErrorReply("MOVED", "MOVED 1 127.0.0.1:7001"), b"3"])
    assert again == [READ_OBJECT.command]


@pytest.mark.parametrize(
    ("reply", "warns"),
    [
        ([b"maxmemory-policy", b"noeviction"], False),
        ([b"maxmemory-policy", b"volatile-lru"], False),
        ([b"maxmemory-policy", b"allkeys-lru"], True),
        ({b"maxmemory-policy": b"allkeys-lfu"}, True),  # RESP3
        (ErrorReply("NOPERM", "NOPERM this user has no permissions to run 'config|get'"), False),
    ],
)
def test_the_server_check_warns_only_where_keys_may_be_evicted(reply: Any, warns: bool) -> None:
    wire = drive(check_server())
    next(wire)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with pytest.raises(StopIteration):
            wire.send([reply])
    ours = [w for w in seen if issubclass(w.category, TypedRedisWarning)]
    assert bool(ours) is warns


def test_the_server_check_of_an_unreachable_server_is_silent() -> None:
    wire = drive(check_server())
    next(wire)
    with pytest.raises(StopIteration):
        wire.throw(TransportFailure("refused", sent=False))
