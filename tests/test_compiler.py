"""The compiler's output is plain data: checked here without Redis, the way peewee checks SQL."""

from __future__ import annotations

import pytest

from typedredis import Indexed, Model, Sorted
from typedredis.codec import index_member
from typedredis.compiler import (
    ALL,
    Key,
    Program,
    RangeScan,
    Register,
    SetOp,
    compile_program,
    explain,
    query_call,
)
from typedredis.expr import Expr

from .support import key


class User(Model, key=key("cuser")):
    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None


def k(field: str, value: object) -> Key:
    return Key(b"i:" + field.encode() + b":" + index_member(value))


ANN, BOB, AGE3, NO_CITY = k("name", "ann"), k("name", "bob"), k("age", 3), k("city", None)


@pytest.mark.parametrize(
    ("expr", "program"),
    [
        (None, Program((), ALL)),
        (User.f.name == "ann", Program((), ANN)),
        (User.f.name != "ann", Program((SetOp("diff", (ALL, ANN)),), Register(1))),
        ((User.f.name == "ann") & (User.f.age != 3), Program((SetOp("diff", (ANN, AGE3)),), Register(1))),
        ((User.f.name == "ann") & (User.f.age == 3), Program((SetOp("inter", (ANN, AGE3)),), Register(1))),
        (
            (User.f.name == "ann") | (User.f.name == "bob"),
            Program((SetOp("union", (ANN, BOB)),), Register(1)),
        ),
        (User.f.name.in_(["ann", "bob", "ann"]), Program((SetOp("union", (ANN, BOB)),), Register(1))),
        (User.f.name.in_(["ann"]), Program((), ANN)),
        (User.f.name.in_([]), Program((), None)),
        (~~(User.f.name == "ann"), Program((), ANN)),
        (~(User.f.name.in_([])), Program((), ALL)),
        ((User.f.name == "ann") & ~(User.f.name == "ann"), Program((), None)),
        ((User.f.name == "ann") | User.f.name.in_([]), Program((), ANN)),
        (
            (User.f.age == 3) | ~(User.f.city == None),  # noqa: E711
            Program((SetOp("diff", (ALL, NO_CITY)), SetOp("union", (AGE3, Register(1)))), Register(2)),
        ),
        (
            ~((User.f.name == "ann") & (User.f.age == 3)),
            Program((SetOp("inter", (ANN, AGE3)), SetOp("diff", (ALL, Register(1)))), Register(2)),
        ),
        (
            ~(User.f.name == "ann") & ~(User.f.age == 3),  # both negations folded into one diff
            Program((SetOp("diff", (ALL, ANN, AGE3)),), Register(1)),
        ),
        (  # nested ands flatten into one intersection
            ((User.f.name == "ann") & (User.f.age == 3)) & (User.f.city == None),  # noqa: E711
            Program((SetOp("inter", (ANN, AGE3, NO_CITY)),), Register(1)),
        ),
    ],
)
def test_compile(expr: Expr[User] | None, program: Program) -> None:
    assert compile_program(expr) == program


def test_query_call_encoding_is_plain_bytes() -> None:
    program = compile_program((User.f.name == "ann") & (User.f.age != 3))
    call = query_call(b"{u}:meta", program, "count", ())
    assert call.script == "query" and call.keys == (b"{u}:meta",) and not call.writes
    page = (b"", b"", 0, -1)  # no order, ascending, offset 0, no limit
    assert call.args == ("count", b"", 0, 1, b"D", 2, b"k" + ANN.suffix, b"k" + AGE3.suffix, b"r1", *page)
    assert query_call(b"{u}:meta", program, "delete", ("name", "age")).writes


def test_explain_is_readable() -> None:
    program = compile_program((User.f.name == "ann") & (User.f.age != 3))
    assert explain(program) == "tmp:1 = SDIFFSTORE <gen>:i:name:'ann' <gen>:i:age:3\nresult: tmp:1"
    assert explain(compile_program(User.f.name.in_([]))).startswith("(empty result")


def test_query_builders_are_immutable() -> None:
    base = User.objects.filter(name="ann")
    assert base.filter(age=3).program() != base.program()
    assert base.program() == Program((), ANN)
    assert User.objects.exclude().program() == Program((), ALL)


class Event(Model, key=key("cevent")):
    kind: Indexed[str]
    size: Sorted[int]


def test_ranges_of_one_field_merge_into_one_scan() -> None:
    program = compile_program((Event.f.size >= 10) & (Event.f.size < 100) & (Event.f.size > 5))
    (scan,) = program.ops
    assert isinstance(scan, RangeScan)
    size = Event.spec().by_name["size"]
    assert (scan.low, scan.high) == (b"[" + size.sort_key(10), b"(" + size.sort_key(100))
    assert compile_program((Event.f.size > 10) & (Event.f.size < 5)).result is None
    assert compile_program((Event.f.size >= 7) & (Event.f.size < 7)).result is None
    assert compile_program((Event.f.size >= 7) & (Event.f.size <= 7)).result is not None


def test_a_range_runs_within_the_other_conditions() -> None:
    program = compile_program((Event.f.kind == "a") & (Event.f.size > 3))
    (scan,) = program.ops
    assert isinstance(scan, RangeScan) and scan.within == k("kind", "a")
    assert "within <gen>:i:kind:'a'" in explain(program)
