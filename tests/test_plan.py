"""typedredis.plan without a server: operations driven with canned replies."""

from __future__ import annotations

from typing import Any

from typedredis.plan import COLLECT, Ahead, Operation, ScriptCall, together
from typedredis.testing import drive


def call(name: str) -> ScriptCall:
    return ScriptCall(name, (b"k",), (), writes=False)


def one_call(name: str) -> Operation[Any]:
    (reply,) = yield (call(name),)
    return reply


def two_calls() -> Operation[Any]:
    first = yield (call("a1"), call("a2"))
    second = yield (call("b"),)
    return first + second


def nothing() -> Operation[Any]:
    return "free"
    yield  # pragma: no cover - a generator that returns at once


def test_together_shares_round_trips_and_routes_replies() -> None:
    operation = together(two_calls(), one_call("x"), nothing())
    batch = next(operation)
    assert [c.script for c in batch] == ["a1", "a2", "x"]
    batch = operation.send(["r1", "r2", "rx"])
    assert [c.script for c in batch] == ["b"]
    try:
        operation.send(["rb"])
    except StopIteration as stop:
        assert stop.value == [["r1", "r2", "rb"], "rx", "free"]
    else:  # pragma: no cover
        raise AssertionError("together() should have finished")


def ahead_then(name: str) -> Operation[Any]:
    """Sends ``name`` ahead, works, collects it, then makes one more call."""
    work: list[str] = []
    yield Ahead((call(name),))
    work.append("decoded")
    (reply,) = yield COLLECT
    (last,) = yield (call("after"),)
    return [reply, last, *work]


def test_together_sends_a_batch_ahead_in_its_next_round_trip_and_keeps_the_replies() -> None:
    operation = together(ahead_then("y"), one_call("x"))
    batch = next(operation)
    assert [c.script for c in batch] == ["y", "x"]
    batch = operation.send(["ry", "rx"])
    assert [c.script for c in batch] == ["after"], "the collect was answered from the kept replies"
    try:
        operation.send(["ra"])
    except StopIteration as stop:
        assert stop.value == [["ry", "ra", "decoded"], "rx"]
    else:  # pragma: no cover
        raise AssertionError("together() should have finished")


def test_canned_replies_answer_a_batch_ahead_at_its_collect() -> None:
    def failing(call: Any) -> Any:
        if call.script == "y":
            raise OSError("no reply")
        return "r" + call.script

    def catching() -> Operation[Any]:
        try:
            return (yield from ahead_then("y"))
        except OSError as exc:
            return exc

    batches, result = drive(ahead_then("y"), lambda c: "r" + c.script)
    assert [[c.script for c in b] for b in batches] == [["y"], ["after"]]
    assert result == ["ry", "rafter", "decoded"]
    batches, result = drive(catching(), failing)
    assert [[c.script for c in b] for b in batches] == [["y"]] and isinstance(result, OSError)
