"""The compiler's output is plain data: checked here without Redis, the way peewee checks SQL."""

from __future__ import annotations

import pytest

from typedredis import Indexed, Model, Sorted
from typedredis.codec import index_member
from typedredis.compiler import (
    ALL,
    Diff,
    Formula,
    Inter,
    Key,
    Members,
    Page,
    RangeScan,
    Union,
    compile_formula,
    explain,
    tokens,
)
from typedredis.expr import Expr
from typedredis.querying import LIMITS, query_call

from .support import key


class User(Model, key=key("cuser")):
    name: Indexed[str]
    age: Indexed[int]
    city: Indexed[str | None] = None


def k(field: str, value: object) -> Key:
    return Key(field, index_member(value))


ANN, BOB, AGE3, NO_CITY = k("name", "ann"), k("name", "bob"), k("age", 3), k("city", None)
NAMES = Members("name", (index_member("ann"), index_member("bob")))


@pytest.mark.parametrize(
    ("expr", "formula"),
    [
        (None, ALL),
        (User.f.name == "ann", ANN),
        (User.f.name != "ann", Diff(ALL, (ANN,))),
        ((User.f.name == "ann") & (User.f.age != 3), Diff(ANN, (AGE3,))),
        ((User.f.name == "ann") & (User.f.age == 3), Inter((ANN, AGE3))),
        ((User.f.name == "ann") | (User.f.name == "bob"), NAMES),  # one field: disjoint sets
        (User.f.name.in_(["ann", "bob", "ann"]), NAMES),
        (User.f.name.in_(["ann"]), ANN),
        (User.f.name.in_([]), None),
        (~~(User.f.name == "ann"), ANN),
        (~(User.f.name.in_([])), ALL),
        ((User.f.name == "ann") & ~(User.f.name == "ann"), None),
        ((User.f.name == "ann") | User.f.name.in_([]), ANN),
        ((User.f.age == 3) | ~(User.f.city == None), Union((Diff(ALL, (NO_CITY,)), AGE3))),  # noqa: E711
        (~((User.f.name == "ann") & (User.f.age == 3)), Diff(ALL, (Inter((ANN, AGE3)),))),
        (~(User.f.name == "ann") & ~(User.f.age == 3), Diff(ALL, (ANN, AGE3))),  # one difference
        (  # nested ands flatten into one intersection
            ((User.f.name == "ann") & (User.f.age == 3)) & (User.f.city == None),  # noqa: E711
            Inter((ANN, AGE3, NO_CITY)),
        ),
    ],
)
def test_compile(expr: Expr[User] | None, formula: Formula | None) -> None:
    assert compile_formula(expr) == formula


def test_long_or_chains_and_huge_in_lists_compile_without_recursion() -> None:
    chain = User.f.age == 0
    for i in range(1, 10_000):
        chain = chain | (User.f.age == i)
    formula = compile_formula(chain)
    assert isinstance(formula, Members) and len(formula.members) == 10_000
    assert compile_formula(User.f.age.in_(range(100_000))) == Members(
        "age", tuple(index_member(i) for i in range(100_000))
    )
    mixed = User.f.city == "x"
    for i in range(5_000):
        mixed = mixed | (User.f.name == str(i)) | (User.f.age == i)
    assert isinstance(compile_formula(mixed), Union)
    assert len(explain(compile_formula(mixed))) < 2_000


def test_tokens_are_the_formula_in_prefix_form() -> None:
    formula = compile_formula((User.f.name == "ann") & (User.f.age != 3))
    assert formula is not None
    assert tokens(formula) == [b"d", 2, b"k", ANN.suffix, b"k", AGE3.suffix]
    assert tokens(NAMES) == [b"n", "name", 2, *NAMES.members]
    call = query_call(User.spec(), formula, "count", (), Page())
    assert call.script == "query" and call.keys == (User.spec().keys.meta,) and not call.writes
    limits = (LIMITS.budget, LIMITS.walk, LIMITS.rows, LIMITS.writes, LIMITS.sort, LIMITS.keys)
    page_args = (b"", b"", 0, -1, b"", b"", b"")
    spec = User.spec()
    assert call.args == ("count", 0, spec.signature, *tokens(formula), *page_args, *limits, *spec.schema)
    assert query_call(User.spec(), formula, "delete", (), Page(), extra=User.spec().schema).writes


def test_explain_is_readable() -> None:
    formula = compile_formula((User.f.name == "ann") & (User.f.age != 3))
    assert explain(formula) == "(name == 'ann' minus age == 3)"
    assert explain(compile_formula(User.f.name.in_([]))).startswith("(empty result")


def test_query_builders_are_immutable() -> None:
    base = User.objects.filter(name="ann")
    assert base.filter(age=3).formula() != base.formula()
    assert base.formula() == ANN
    assert User.objects.exclude().formula() == ALL


class Event(Model, key=key("cevent")):
    kind: Indexed[str]
    size: Sorted[int]


def test_ranges_of_one_field_merge_into_one_scan() -> None:
    scan = compile_formula((Event.f.size >= 10) & (Event.f.size < 100) & (Event.f.size > 5))
    assert isinstance(scan, RangeScan)
    size = Event.spec().by_name["size"]
    assert (scan.low, scan.high) == (b"[" + size.sort_key(10), b"(" + size.sort_key(100))
    assert compile_formula((Event.f.size > 10) & (Event.f.size < 5)) is None
    assert compile_formula((Event.f.size >= 7) & (Event.f.size < 7)) is None
    assert compile_formula((Event.f.size >= 7) & (Event.f.size <= 7)) is not None


def test_a_range_and_a_set_intersect() -> None:
    formula = compile_formula((Event.f.kind == "a") & (Event.f.size > 3))
    assert isinstance(formula, Inter) and formula.parts[0] == k("kind", "a")
    assert isinstance(formula.parts[1], RangeScan)
    assert explain(formula) == "(kind == 'a' and size > 3)"
