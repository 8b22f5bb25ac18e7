"""typedredis.plan without a server: operations driven with canned replies."""

from __future__ import annotations

from typing import Any

from typedredis.plan import Operation, ScriptCall, together


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
