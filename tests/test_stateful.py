"""A hypothesis state machine: random saves, updates, deletes, query deletes, bulk saves and
resets; after every step the stored state must be exactly what a plain-Python model implies
and every kind of query must return what filtering that model returns."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ClassVar

import hypothesis.strategies as st
import pytest
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
from typedredis import AlreadyExists, Compound, Indexed, Model, Sorted, Unique, UniqueViolation, querying
from typedredis.expr import And, Eq, Expr, In, Not, Or

from . import support


class Thing(Model, key=support.key("thing")):
    name: Indexed[str]
    n: Indexed[int]
    tag: Indexed[str | None] = None
    flag: Indexed[bool | int | float | None] = None
    note: str = ""

    __indexes__: ClassVar[Any] = (Compound("name", "n"), Compound("tag", "flag", "name"))


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

    def record(self, obj: Thing, expected: Thing | None = None) -> None:
        """Note that ``obj`` was saved, leaving ``expected`` stored (default: ``obj`` whole)."""
        assert obj.pk is not None
        self.highest_pk = max(self.highest_pk, obj.pk)
        self.model[obj.pk] = expected if expected is not None else obj.model_copy()

    @rule(obj=things)
    def insert(self, obj: Thing) -> None:
        obj.save()
        assert obj.pk is not None and obj.pk > self.highest_pk, "primary keys are never reused"
        self.record(obj)

    @rule(obj=things, pk=st.integers(min_value=1, max_value=40))
    def insert_with_pk(self, obj: Thing, pk: int) -> None:
        obj.pk = pk
        if pk in self.model:
            with pytest.raises(AlreadyExists):
                obj.insert()
        else:
            obj.insert()
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
        expected = support.after_saves(self.model, [obj])[pk]  # (only what obj changed is written)
        obj.save()
        self.record(obj, expected)

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
        expected = support.after_saves(self.model, batch)
        Thing.save_all(batch)
        for obj in batch:
            assert obj.pk is not None
            self.record(obj, expected.get(obj.pk))

    @rule(
        new=st.lists(things, max_size=6),
        explicit=st.lists(st.integers(1, 60), max_size=3, unique=True),
        stream=st.booleans(),
    )
    def reset(self, new: list[Thing], explicit: list[int], stream: bool) -> None:
        for obj, pk in zip(new, explicit, strict=False):
            obj.pk = pk
        Thing.reset((obj for obj in new) if stream else new)
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


def run_machine(redis_url: str, machine: Callable[[redis.Redis], RuleBasedStateMachine]) -> None:
    """Run a state machine against the test server (TYPEDREDIS_STATEFUL_EXAMPLES: how many runs)."""
    client = support.raw_client(redis_url)
    support.connect(redis_url)
    run_state_machine_as_test(
        lambda: machine(client),
        settings=settings(
            max_examples=int(os.environ.get("TYPEDREDIS_STATEFUL_EXAMPLES", "60")),
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    support.clean(client, shared=support.SHARED)
    typedredis.disconnect()
    client.close()


LIMITS = {
    "one call": querying.Limits(),
    "mixed": querying.Limits(budget=20, walk=5, rows=3, writes=2, sort=4, keys=6),
    "walks": querying.Limits(budget=0, walk=3, rows=2, writes=2, sort=2, keys=0),
}
"""The state machines run with the real limits of a query call, and with limits so small that
queries walk in many calls (every strategy of query.lua is checked against the model)."""


@pytest.fixture(params=sorted(LIMITS))
def limits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> querying.Limits:
    monkeypatch.setattr(querying, "LIMITS", LIMITS[request.param])
    return LIMITS[request.param]


def test_state_machine(redis_url: str, limits: querying.Limits, executor_kind: support.Kind) -> None:
    run_machine(redis_url, StoreMachine)


# -- range, unique and prefix indexes; ordered, paginated and projected queries -------------


class Event(Model, key=support.key("event")):
    kind: Indexed[str]
    size: Sorted[int]
    slug: Unique[str]
    title: Sorted[str | None] = None
    price: Sorted[Decimal | None] = None

    __indexes__: ClassVar[Any] = (
        Compound("kind", "size"),
        Compound("kind", "title"),
        Compound("slug", "kind"),
    )


KINDS = ["a", "b", ""]
SIZES = [-(2**60), -1, 0, 1, 2**53, 2**53 + 1]
SLUGS = ["s1", "s2", "s3", "s4", "s5", "s6"]
TITLES = [None, "", "R", "Re", "Re:x", "Rf", "\u00e9", "re"]
PRICES = [None, Decimal("0"), Decimal("-0.5"), Decimal("1.00"), Decimal("1"), Decimal("1E+30")]
PREFIXES = ["", "R", "Re", "x"]

events = st.builds(
    Event,
    kind=st.sampled_from(KINDS),
    size=st.sampled_from(SIZES),
    slug=st.sampled_from(SLUGS),
    title=st.sampled_from(TITLES),
    price=st.sampled_from(PRICES),
)

Predicate = Callable[[Event], bool]


def _compare(field: str, op: str, value: Any) -> tuple[Expr[Event], Predicate]:
    f: Any = getattr(Event.f, field)
    checks: dict[str, tuple[Any, Callable[[Any], bool]]] = {
        "<": (f < value, lambda v: v < value),
        "<=": (f <= value, lambda v: v <= value),
        ">": (f > value, lambda v: v > value),
        ">=": (f >= value, lambda v: v >= value),
        "==": (f == value, lambda v: v == value),
    }
    expr, test = checks[op]
    return expr, lambda e: getattr(e, field) is not None and test(getattr(e, field))


def event_leaves() -> st.SearchStrategy[tuple[Expr[Event], Predicate]]:
    kind = st.sampled_from(KINDS).map(lambda k: (Event.f.kind == k, lambda e: e.kind == k))
    ops = st.sampled_from(["<", "<=", ">", ">=", "=="])
    size = st.tuples(ops, st.sampled_from(SIZES)).map(lambda a: _compare("size", *a))
    price = st.tuples(ops, st.sampled_from(PRICES[1:])).map(lambda a: _compare("price", *a))
    title = st.tuples(ops, st.sampled_from(TITLES[1:])).map(lambda a: _compare("title", *a))
    between = st.tuples(st.sampled_from(SIZES), st.sampled_from(SIZES)).map(
        lambda b: (Event.f.size.between(*b), lambda e: b[0] <= e.size <= b[1])
    )
    prefix = st.sampled_from(PREFIXES).map(
        lambda p: (Event.f.title.startswith(p), lambda e: e.title is not None and e.title.startswith(p))
    )
    slug = st.sampled_from(SLUGS).map(lambda s: (Event.f.slug == s, lambda e: e.slug == s))
    none_title = st.just((Event.f.title == None, lambda e: e.title is None))  # noqa: E711
    return st.one_of(kind, size, price, title, between, prefix, slug, none_title)


event_exprs: st.SearchStrategy[tuple[Expr[Event], Predicate]] = st.recursive(
    event_leaves(),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda ab: (ab[0][0] & ab[1][0], lambda e: ab[0][1](e) and ab[1][1](e))),
        st.tuples(inner, inner).map(lambda ab: (ab[0][0] | ab[1][0], lambda e: ab[0][1](e) or ab[1][1](e))),
        inner.map(lambda a: (~a[0], lambda e: not a[1](e))),
    ),
    max_leaves=4,
)


def _order_key(field: str, obj: Event) -> tuple[Any, ...]:
    value = getattr(obj, field)
    return (0, 0, obj.pk) if value is None else (1, value, obj.pk)


class RangeMachine(RuleBasedStateMachine):
    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        support.clean(client, shared=support.SHARED)
        self.model: dict[int, Event] = {}

    def holder(self, slug: str, besides: set[int]) -> bool:
        return any(e.slug == slug for pk, e in self.model.items() if pk not in besides)

    @rule(obj=events)
    def insert(self, obj: Event) -> None:
        if self.holder(obj.slug, set()):
            with pytest.raises(UniqueViolation):
                obj.save()
            assert obj.pk is None
        else:
            obj.save()
            assert obj.pk is not None
            self.model[obj.pk] = obj.model_copy()

    @precondition(lambda self: self.model)
    @rule(data=st.data(), changes=events)
    def update(self, data: st.DataObject, changes: Event) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model)))
        fields = data.draw(st.sets(st.sampled_from(["kind", "size", "slug", "title", "price"]), min_size=1))
        obj = self.model[pk].model_copy()
        for field in fields:
            setattr(obj, field, getattr(changes, field))
        expected = support.after_saves(self.model, [obj])[pk]  # (only what obj changed is written)
        if self.holder(expected.slug, {pk}):
            with pytest.raises(UniqueViolation):
                obj.save()
        else:
            obj.save()
            self.model[pk] = expected

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.model)))
        assert Event.delete_many([pk]) == 1
        del self.model[pk]

    @rule(data=st.data(), new=st.lists(events, max_size=4))
    def save_all(self, data: st.DataObject, new: list[Event]) -> None:
        pks = st.lists(st.sampled_from(sorted(self.model)), max_size=3, unique=True)
        existing = data.draw(pks) if self.model else []
        slugs = [data.draw(st.sampled_from(SLUGS)) for _ in existing]
        moved = [
            self.model[pk].model_copy(update={"slug": slug}) for pk, slug in zip(existing, slugs, strict=True)
        ]
        batch = new + moved
        expected = support.after_saves(self.model, moved)  # (only what each changed is written)
        final = [e.slug for pk, e in self.model.items() if pk not in existing]
        final += [e.slug for e in new] + [e.slug for e in expected.values()]
        if len(final) != len(set(final)):
            with pytest.raises(UniqueViolation):
                Event.save_all(batch)
            assert all(e.pk is None for e in new)
        else:
            Event.save_all(batch)
            for obj in batch:
                assert obj.pk is not None
                self.model[obj.pk] = expected.get(obj.pk) or obj.model_copy()

    @rule(new=st.lists(events, max_size=5))
    def reset(self, new: list[Event]) -> None:
        if len({e.slug for e in new}) != len(new):
            with pytest.raises(UniqueViolation):
                Event.reset(new)
            return
        Event.reset(new)
        self.model = {e.pk: e.model_copy() for e in new}  # type: ignore[misc]

    @rule(where=event_exprs, data=st.data())
    def query_update(self, where: tuple[Expr[Event], Predicate], data: st.DataObject) -> None:
        expr, pred = where
        field = data.draw(st.sampled_from(["kind", "size", "slug", "title"]))
        pools: dict[str, list[Any]] = {"kind": KINDS, "size": SIZES, "slug": SLUGS, "title": TITLES}
        value = data.draw(st.sampled_from(pools[field]))
        matched = {pk for pk, e in self.model.items() if pred(e)}
        conflict = field == "slug" and matched and (len(matched) > 1 or self.holder(value, matched))
        if conflict:
            with pytest.raises(UniqueViolation):
                Event.query(expr).update(**{field: value})
            return
        assert Event.query(expr).update(**{field: value}) == len(matched)
        for pk in matched:
            self.model[pk] = self.model[pk].model_copy(update={field: value})

    @rule(
        where=st.one_of(st.none(), event_exprs),
        order=st.sampled_from([None, "size", "title", "price"]),
        descending=st.booleans(),
        offset=st.integers(0, 6),
        limit=st.one_of(st.none(), st.integers(0, 5)),
        project=st.booleans(),
    )
    def ordered_query(
        self,
        where: tuple[Expr[Event], Predicate] | None,
        order: str | None,
        descending: bool,
        offset: int,
        limit: int | None,
        project: bool,
    ) -> None:
        matching = [e for e in self.model.values() if where is None or where[1](e)]
        if order is None:
            ordered = sorted(matching, key=lambda e: e.pk or 0)
        else:
            ordered = sorted(matching, key=lambda e: _order_key(order, e), reverse=descending)
        expected = ordered[offset:] if limit is None else ordered[offset : offset + limit]
        query = Event.objects if where is None else Event.query(where[0])
        if order is not None:
            field: Any = getattr(Event.f, order)
            query = query.order_by(field.desc() if descending else field.asc())
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        assert query.pks() == [e.pk for e in expected]
        assert query.count() == len(expected)
        assert query.exists() == bool(expected)
        if project:
            assert query.only(Event.f.slug, Event.f.size).all() == [(e.slug, e.size) for e in expected]
        else:
            assert query.all() == expected
            assert query.first() == (expected[0] if expected else None)

    @invariant()
    def storage_is_exact(self) -> None:
        support.check_invariants(self.client, Event, self.model)


def test_range_state_machine(redis_url: str, limits: querying.Limits, executor_kind: support.Kind) -> None:
    run_machine(redis_url, RangeMachine)
