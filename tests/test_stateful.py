"""A hypothesis state machine: random saves, updates, deletes, query deletes, bulk saves and
resets; after every step the stored state must be exactly what a plain-Python model implies
and every kind of query must return what filtering that model returns."""

from __future__ import annotations

import os
from typing import Any

import hypothesis.strategies as st
import redis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import typedredis
from typedredis import Indexed, Model
from typedredis.expr import And, Eq, Expr, In, Not, Or

from . import support


class Thing(Model, key=support.key("thing")):
    name: Indexed[str]
    n: Indexed[int]
    tag: Indexed[str | None] = None
    flag: Indexed[bool | int | float | None] = None
    note: str = ""


NAMES = ["", "a", "a:b", "{x}", "*", "\u00e9", "line\nbreak", "1"]
NUMBERS = [-1, 0, 1, 2, 2**70]
TAGS = [None, "x", "y", ""]
FLAGS = [None, True, False, 0, 1, 0.0, -0.0, 1.0, 2.5]

values = {"name": NAMES, "n": NUMBERS, "tag": TAGS, "flag": FLAGS}
things = st.builds(
    Thing,
    name=st.sampled_from(NAMES),
    n=st.sampled_from(NUMBERS),
    tag=st.sampled_from(TAGS),
    flag=st.sampled_from(FLAGS),
    note=st.text(max_size=5),
)


def leaves() -> st.SearchStrategy[Expr[Thing]]:
    eq = st.sampled_from(sorted(values)).flatmap(
        lambda f: st.sampled_from(values[f]).map(lambda v: getattr(Thing.f, f) == v)
    )
    ne = st.sampled_from(sorted(values)).flatmap(
        lambda f: st.sampled_from(values[f]).map(lambda v: getattr(Thing.f, f) != v)
    )
    in_ = st.sampled_from(sorted(values)).flatmap(
        lambda f: st.lists(st.sampled_from(values[f]), max_size=3).map(lambda vs: getattr(Thing.f, f).in_(vs))
    )
    return st.one_of(eq, ne, in_)


exprs: st.SearchStrategy[Expr[Thing]] = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda ab: ab[0] & ab[1]),
        st.tuples(inner, inner).map(lambda ab: ab[0] | ab[1]),
        inner.map(lambda a: ~a),
    ),
    max_leaves=5,
)


def matches(expr: Expr[Any], obj: Thing) -> bool:
    """The reference semantics: index equality is equality of canonical index members."""
    from typedredis.codec import index_member

    if isinstance(expr, Eq):
        return index_member(getattr(obj, expr.field)) == expr.member
    if isinstance(expr, In):
        return index_member(getattr(obj, expr.field)) in expr.members
    if isinstance(expr, Not):
        return not matches(expr.part, obj)
    if isinstance(expr, And):
        return all(matches(p, obj) for p in expr.parts)
    if isinstance(expr, Or):
        return any(matches(p, obj) for p in expr.parts)
    raise AssertionError(expr)


class StoreMachine(RuleBasedStateMachine):
    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        support.clean(client, shared=support.SHARED)
        self.model: dict[int, Thing] = {}
        self.highest_pk = 0

    def record(self, obj: Thing) -> None:
        assert obj.pk is not None
        self.highest_pk = max(self.highest_pk, obj.pk)
        self.model[obj.pk] = obj.model_copy()

    @rule(obj=things)
    def insert(self, obj: Thing) -> None:
        obj.save()
        assert obj.pk is not None and obj.pk > self.highest_pk, "primary keys are never reused"
        self.record(obj)

    @precondition(lambda self: self.model)
    @rule(data=st.data(), changes=things)
    def update(self, data: st.DataObject, changes: Thing) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model)))
        fields = data.draw(st.sets(st.sampled_from(["name", "n", "tag", "flag", "note"]), min_size=1))
        stale = data.draw(st.booleans())
        obj = self.model[pk].model_copy() if stale else Thing.get(pk)
        for field in fields:
            setattr(obj, field, getattr(changes, field))
        obj.save()
        self.record(obj)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model)))
        assert self.model.pop(pk).delete() is True

    @rule(pk=st.integers(min_value=1, max_value=50))
    def delete_by_pk(self, pk: int) -> None:
        existed = pk in self.model
        assert Thing.delete_many([pk]) == int(existed)
        self.model.pop(pk, None)

    @rule(expr=exprs)
    def query_delete(self, expr: Expr[Thing]) -> None:
        doomed = {pk for pk, obj in self.model.items() if matches(expr, obj)}
        assert Thing.query(expr).delete() == len(doomed)
        for pk in doomed:
            del self.model[pk]

    @rule(data=st.data(), new=st.lists(things, max_size=4))
    def save_all(self, data: st.DataObject, new: list[Thing]) -> None:
        existing = data.draw(st.lists(st.sampled_from(sorted(self.model)), max_size=3)) if self.model else []
        batch = new + [self.model[pk].model_copy(update={"note": "bulk"}) for pk in existing]
        Thing.save_all(batch)
        for obj in batch:
            self.record(obj)

    @rule(new=st.lists(things, max_size=6), explicit=st.lists(st.integers(1, 60), max_size=3, unique=True))
    def reset(self, new: list[Thing], explicit: list[int]) -> None:
        for obj, pk in zip(new, explicit, strict=False):
            obj.pk = pk
        Thing.reset(new)
        self.model = {}
        for obj in new:
            assert obj.pk is not None
            if obj.pk not in explicit:
                assert obj.pk > self.highest_pk, "reset must not reuse primary keys"
            self.record(obj)

    @rule(expr=exprs)
    def query(self, expr: Expr[Thing]) -> None:
        expected = sorted(pk for pk, obj in self.model.items() if matches(expr, obj))
        query = Thing.query(expr)
        assert query.pks() == expected, expr
        assert [o.pk for o in query.all()] == expected
        assert query.count() == len(expected)
        assert query.exists() == bool(expected)
        first = query.first()
        assert (first.pk if first else None) == (expected[0] if expected else None)
        if first is not None:
            assert first == self.model[first.pk]  # type: ignore[index]

    @invariant()
    def storage_is_exact(self) -> None:
        support.check_invariants(self.client, Thing, self.model)
        assert Thing.objects.count() == len(self.model)


def test_state_machine(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    typedredis.connect(client)
    run_state_machine_as_test(
        lambda: StoreMachine(client),
        settings=settings(
            max_examples=int(os.environ.get("TYPEDREDIS_STATEFUL_EXAMPLES", "60")),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    support.clean(client, shared=support.SHARED)
    client.close()
