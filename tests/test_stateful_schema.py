"""A hypothesis state machine whose steps also change the model's schema (issue 11).

Several releases of one model (same key) take turns: a field gains or loses an equality or a
sorted index, a `Sorted` field's sort keys change from int to float and back, a field with a
default is added or removed. A rolling deploy is played: two releases are deployed at once
(the current one and the previous one), and either writes (saves, updates, deletes, query
deletes, resets, online reindexes with a write during the job) and queries. The machine
keeps the objects in a plain dict, and requires:

- every query either answers what filtering (and sorting) that dict answers, or raises
  `IndexNotReady` naming one of the fields it uses;
- a query never raises `IndexNotReady` when every index it uses is certainly complete: built
  by a reset of a release that declares it with the same encoding, or recorded by a save while
  the model was empty, and since then written only by releases that maintain it unchanged.
"""

from __future__ import annotations

import itertools
import operator
import os
from dataclasses import dataclass, replace
from typing import Any

import hypothesis.strategies as st
import pytest
import redis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import typedredis
from typedredis import Indexed, IndexNotReady, Model, ReindexAborted, Sorted, model, querying, reindex
from typedredis.codec import index_member

from . import support

KEY = support.key("schema_thing")


B_TYPES: dict[str, Any] = {"plain": int, "indexed": Indexed[int], "int": Sorted[int], "float": Sorted[float]}
"""The type of field ``b`` in each kind of release."""


@dataclass(frozen=True)
class Shape:
    """One release of the model: how ``a`` and ``b`` are indexed, and whether ``c`` exists."""

    a: bool  # a: Indexed[str], else a: str
    b: str  # "plain" (int), "indexed" (Indexed[int]), "int" (Sorted[int]) or "float" (Sorted[float])
    c: bool  # c: str = "x" is a field of this release

    @property
    def sorted(self) -> bool:
        return self.b in ("int", "float")


def define(shape: Shape) -> type[Model]:
    """The model class of release ``shape``: a new class over the same key, as a new process
    of the next release would define it (see tests/test_schema.py, `release`)."""
    model._registry.pop(KEY, None)
    annotations: dict[str, Any] = {"a": Indexed[str] if shape.a else str, "b": B_TYPES[shape.b]}
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": "Thing",
        "__annotations__": annotations,
    }
    if shape.c:
        annotations["c"] = str
        namespace["c"] = "x"
    return type("Thing", (Model,), namespace, key=KEY)


SHAPES = [Shape(a, b, c) for a, b, c in itertools.product([False, True], B_TYPES, [False, True])]
RELEASES: dict[Shape, Any] = {shape: define(shape) for shape in SHAPES}
"""Every release's class, defined once: they coexist (the registry only refuses a second
definition of a key), as the processes of a rolling deploy do."""
model._registry.pop(KEY, None)


def indexes(shape: Shape) -> dict[str, str]:
    """The single-field indexes of a release as Redis records them: name -> encoding."""
    return dict(RELEASES[shape].spec().indexes)


def index_of(shape: Shape, field: str) -> str:
    """The record name of the index a release's query on ``field`` uses."""
    return ("s:" if field == "b" and shape.sorted else "e:") + field


A_VALUES = ["p", "q", ""]
B_VALUES = [-3, 0, 1, 2, 2**53]  # ints that are exact floats: valid under every release
C_VALUES = ["x", "y"]
OPS = {"==": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

shapes = st.sampled_from(SHAPES)
rows = st.fixed_dictionaries(
    {"a": st.sampled_from(A_VALUES), "b": st.sampled_from(B_VALUES), "c": st.sampled_from(C_VALUES)}
)

Row = dict[str, Any]


class SchemaMachine(RuleBasedStateMachine):
    def __init__(self, client: redis.Redis) -> None:
        super().__init__()
        self.client = client
        support.clean(client, shared=support.SHARED)
        self.objects: dict[int, Row] = {}
        self.current = self.previous = SHAPES[0]
        self.trusted: dict[str, str] = {}
        """Indexes certainly complete (name -> encoding): a query using only these, with these
        encodings, must answer."""
        self.abandoned: set[str] = set()
        """Indexes a release lacking them wrote since the last reset: they may hold stale
        entries, so the model being empty does not make them complete."""

    # -- bookkeeping ------------------------------------------------------------------------

    def writer(self, old: bool) -> tuple[Shape, Any]:
        shape = self.previous if old else self.current
        return shape, RELEASES[shape]

    def before_write(self, shape: Shape, *, noted_while_empty: bool) -> None:
        """A write by release ``shape`` is about to change objects: an index it lacks, or
        encodes otherwise, is no longer certainly complete; when the model is empty (and the
        write certainly records its indexes) its indexes are complete, unless abandoned."""
        mine = indexes(shape)
        for name in ("e:a", "e:b", "s:b"):
            if name not in mine:
                self.abandoned.add(name)
            if name in self.trusted and self.trusted[name] != mine.get(name):
                del self.trusted[name]
        if noted_while_empty and not self.objects:
            for name, encoding in mine.items():
                if name not in self.abandoned:
                    self.trusted[name] = encoding

    def expected_row(self, shape: Shape, row: Row) -> Row:
        """What an object written by release ``shape`` reads as: a release without ``c``
        replaces the stored object without it, so it reads as the default afterwards."""
        return {"a": row["a"], "b": row["b"], "c": row["c"] if shape.c else "x"}

    def check_object(self, shape: Shape, obj: Any, pk: int) -> None:
        want = self.objects[pk]
        assert obj.pk == pk
        assert (obj.a, obj.b) == (want["a"], want["b"]), (shape, obj, want)
        if shape.c:
            assert obj.c == want["c"], (shape, obj, want)

    # -- schema changes ---------------------------------------------------------------------

    @initialize(shape=shapes)
    def deploy_first(self, shape: Shape) -> None:
        self.current = self.previous = shape

    @rule(change=st.sampled_from(["a", "b", "c"]), b=st.sampled_from(sorted(B_TYPES)))
    def deploy(self, change: str, b: str) -> None:
        """The next release rolls out, changing one thing: it adds or removes a's index, gives
        b another kind (index added, removed, or sort keys int <-> float), or adds or removes
        c. The release before it still runs alongside until `finish_rollout`."""
        shape = self.current
        if change == "a":
            shape = replace(shape, a=not shape.a)
        elif change == "b":
            shape = replace(shape, b=b)
        else:
            shape = replace(shape, c=not shape.c)
        self.previous, self.current = self.current, shape

    @rule()
    def finish_rollout(self) -> None:
        self.previous = self.current

    # -- writes -----------------------------------------------------------------------------

    @rule(old=st.booleans(), row=rows)
    def save(self, old: bool, row: Row) -> None:
        shape, cls = self.writer(old)
        obj = cls(**(row if shape.c else {"a": row["a"], "b": row["b"]}))
        self.before_write(shape, noted_while_empty=True)
        obj.save()
        assert obj.pk not in self.objects
        self.objects[obj.pk] = self.expected_row(shape, row)

    @precondition(lambda self: self.objects)
    @rule(old=st.booleans(), data=st.data(), changes=rows)
    def update(self, old: bool, data: st.DataObject, changes: Row) -> None:
        shape, cls = self.writer(old)
        pk = data.draw(st.sampled_from(sorted(self.objects)))
        obj = cls.get(pk)
        self.check_object(shape, obj, pk)
        fields = data.draw(st.sets(st.sampled_from(["a", "b", "c"] if shape.c else ["a", "b"]), min_size=1))
        for field in fields:
            setattr(obj, field, changes[field])
        # a loaded object writes only the fields it changed, while every index of its release
        # is ready (save.lua decides before it records anything); else it is written whole
        written = support.changed_fields(obj)
        records = support.records(self.client, cls)
        ready = all(records.get(name) == f"ready:{enc}" for name, enc in indexes(shape).items())
        self.before_write(shape, noted_while_empty=True)
        obj.save()
        if ready and written is not None:
            self.objects[pk] = {**self.objects[pk], **{f: obj.model_dump()[f] for f in written}}
        else:
            self.objects[pk] = self.expected_row(shape, obj.model_dump())

    @precondition(lambda self: self.objects)
    @rule(old=st.booleans(), data=st.data(), by_pk=st.booleans())
    def delete(self, old: bool, data: st.DataObject, by_pk: bool) -> None:
        shape, cls = self.writer(old)
        pk = data.draw(st.sampled_from(sorted(self.objects)))
        self.before_write(shape, noted_while_empty=True)
        if by_pk:
            assert cls.delete_many([pk]) == 1
        else:
            assert cls.get(pk).delete() is True
        del self.objects[pk]

    @rule(old=st.booleans())
    def clear(self, old: bool) -> None:
        """Delete every object (an empty model makes the next save's indexes complete)."""
        shape, cls = self.writer(old)
        # (on an empty model the delete may write nothing, and record nothing: trust nothing new)
        self.before_write(shape, noted_while_empty=False)
        assert cls.objects.delete() == len(self.objects)
        self.objects = {}

    @rule(old=st.booleans(), value=st.sampled_from(A_VALUES))
    def query_delete(self, old: bool, value: str) -> None:
        """Delete the objects whose ``a`` is ``value``: it needs a's index."""
        shape, cls = self.writer(old)
        if not shape.a:
            return
        complete = self.trusted.get("e:a") == indexes(shape)["e:a"]
        self.before_write(shape, noted_while_empty=False)
        try:
            deleted = cls.query(cls.f.a == value).delete()
        except IndexNotReady as refused:
            assert refused.field == "a", refused
            assert not complete, f"e:a is complete, yet refused: {refused}"
            return
        doomed = {pk for pk, row in self.objects.items() if row["a"] == value}
        assert deleted == len(doomed)
        for pk in doomed:
            del self.objects[pk]

    @rule(old=st.booleans(), keep=st.data(), new=st.lists(rows, max_size=3))
    def reset(self, old: bool, keep: st.DataObject, new: list[Row]) -> None:
        """Rewrite the dataset (the kept objects and new ones) into a new generation."""
        shape, cls = self.writer(old)
        kept = keep.draw(st.sets(st.sampled_from(sorted(self.objects)))) if self.objects else set()
        fields = ["a", "b", "c"] if shape.c else ["a", "b"]
        objs = [cls(pk=pk, **{f: self.objects[pk][f] for f in fields}) for pk in sorted(kept)]
        fresh = [cls(**{f: row[f] for f in fields}) for row in new]
        cls.reset(objs + fresh)  # a list: never a sync iterator under the asyncio kind
        self.objects = {obj.pk: self.expected_row(shape, obj.model_dump()) for obj in objs + fresh}
        self.trusted, self.abandoned = indexes(shape), set()
        # Only here is the whole storage checkable: a reset leaves exactly the keys of this
        # release's layout. Between resets, an index a release lacks or encodes otherwise
        # keeps stale entries and keys by design (its record keeps queries off it), which
        # check_invariants would report; queries check the rest after every other step.
        support.check_invariants(self.client, cls, {pk: cls(pk=pk, **r) for pk, r in self.rows(cls).items()})

    @rule(
        old=st.booleans(),
        meanwhile=st.sampled_from([None, "current", "previous"]),
        row=rows,
    )
    def reindex(self, old: bool, meanwhile: str | None, row: Row) -> None:
        """A release rebuilds its indexes online (a few objects per call); during the job,
        after its first batch, one release may save an object (as another process would)."""
        shape, cls = self.writer(old)
        wrote: list[Shape] = []

        def progress(done: int, total: int) -> None:
            if meanwhile is None or wrote:
                return
            writer = self.current if meanwhile == "current" else self.previous
            obj = RELEASES[writer](**(row if writer.c else {"a": row["a"], "b": row["b"]}))
            self.before_write(writer, noted_while_empty=True)
            with typedredis.using(self.client):  # not the executor running the job
                obj.save()
            self.objects[obj.pk] = self.expected_row(writer, row)
            wrote.append(writer)

        mine = indexes(shape)
        records = support.records(self.client, cls)
        if ":v" in records or self.objects:  # (else the job finds nothing to do)
            for name, encoding in mine.items():
                # the job marks building, clears and refills every index not ready in its own
                # encoding: whatever another encoding's entries held is gone, job done or not
                if records.get(name) != f"ready:{encoding}" and self.trusted.get(name, encoding) != encoding:
                    del self.trusted[name]
        try:
            report = cls.reindex(progress=progress)
        except ReindexAborted:
            assert wrote, "aborted, yet nothing was written during the job"
            assert any(indexes(wrote[0]).get(name) != mine.get(name) for name in mine), (shape, wrote)
            return
        for name, encoding in mine.items():
            if wrote and indexes(wrote[0]).get(name) != encoding:
                assert name not in report.built, f"{name} was built while {wrote[0]} wrote without it"
                continue  # a ready index the writer dropped meanwhile (before_write untrusted it)
            self.trusted[name] = encoding
            self.abandoned.discard(name)
        self.abandoned -= set(report.removed)

    def rows(self, release: Any) -> dict[int, Row]:
        """The objects as release ``release`` (a class) is given them."""
        fields = list(release.spec().stored)
        return {pk: {f: row[f] for f in fields} for pk, row in self.objects.items()}

    # -- queries ----------------------------------------------------------------------------

    @rule(
        old=st.booleans(),
        a=st.one_of(st.none(), st.sampled_from(A_VALUES)),
        b=st.one_of(st.none(), st.tuples(st.sampled_from(sorted(OPS)), st.sampled_from(B_VALUES))),
        order=st.sampled_from([None, "asc", "desc"]),
    )
    def query(self, old: bool, a: str | None, b: tuple[str, int] | None, order: str | None) -> None:
        shape, cls = self.writer(old)
        if a is not None and not shape.a:
            a = None
        if b is not None and not (shape.sorted or (shape.b == "indexed" and b[0] == "==")):
            b = None  # a plain field cannot be queried; an equality index answers == only
        if order is not None and not shape.sorted:
            order = None
        matching = [
            pk
            for pk, row in self.objects.items()
            if (a is None or row["a"] == a) and (b is None or OPS[b[0]](row["b"], b[1]))
        ]
        if order is None:
            expected = sorted(matching)
        else:
            expected = sorted(matching, key=lambda pk: (self.objects[pk]["b"], pk), reverse=order == "desc")

        parts = []
        if a is not None:
            parts.append(cls.f.a == a)
        if b is not None:
            f = cls.f.b
            parts.append(OPS[b[0]](f, b[1]))
        query = cls.objects
        for part in parts:
            query = query.filter(part)
        if order is not None:
            query = query.order_by(cls.f.b.desc() if order == "desc" else cls.f.b.asc())
        used = {
            field for field, on in (("a", a is not None), ("b", b is not None or order is not None)) if on
        }
        needs = {index_of(shape, field) for field in used}
        complete = all(self.trusted.get(name) == indexes(shape)[name] for name in needs)

        def fetch() -> list[int]:
            objs = query.all()
            for obj in objs:
                self.check_object(shape, obj, obj.pk)
            return [obj.pk for obj in objs]

        answers = {
            "pks": (query.pks, expected),
            "count": (query.count, len(expected)),
            "exists": (query.exists, bool(expected)),
            "all": (fetch, expected),
        }
        for action, (run, want) in answers.items():
            # Each action on its own: a count does not need the order's index, for instance.
            try:
                got = run()
            except IndexNotReady as refused:
                assert refused.field in used, refused
                assert not complete, f"{action}: {sorted(needs)} are complete, yet refused: {refused}"
                continue
            assert got == want, f"{action} of {query!r} through {shape}: {got!r}, expected {want!r}"

    @invariant()
    def ready_records_are_true(self) -> None:
        """Whatever the trust the machine has earned, an index Redis records as ``ready`` must
        hold exactly the entries of the stored objects, in its recorded encoding: queries
        answer from it. (The full `support.check_invariants` holds only right after a reset:
        see `reset`.)"""
        ks = RELEASES[self.current].spec().keys
        gen = int(self.client.hget(ks.meta, "gen") or 0)
        records = {k.decode(): v.decode() for k, v in self.client.hgetall(ks.schema(gen)).items()}
        for name, record in records.items():
            state, _, encoding = record.partition(":")
            if name.startswith(":") or state != "ready":
                continue
            kind, field = name.split(":")
            cls = next(RELEASES[s] for s in SHAPES if indexes(s).get(name) == encoding)
            spec = cls.spec()
            values = {pk: getattr(cls.model_validate(row), field) for pk, row in self.rows(cls).items()}
            if kind == "s":
                sort_key = spec.by_name[field].sort_key_of
                want = {sort_key(v) + pk.to_bytes(8, "big") for pk, v in values.items()}
                got = set(self.client.zrange(ks.sorted_index(gen, field), 0, -1))
                assert got == want, f"{name} is {record}, yet holds {sorted(got - want)} beyond its objects'"
                continue
            wanted: dict[bytes, set[int]] = {}
            for pk, v in values.items():
                wanted.setdefault(ks.index(gen, field, index_member(v)), set()).add(pk)
            pattern = support.glob_escape(ks.index(gen, field, b"")) + b"*"
            for key in self.client.scan_iter(match=pattern, count=1000):
                got_pks = {int(pk) for pk in self.client.smembers(key)}
                assert got_pks == wanted.pop(key, set()), f"{name} is {record}, yet {key!r} holds {got_pks}"
            assert not wanted, f"{name} is {record}, yet lacks {sorted(wanted)}"

    @invariant()
    def every_object_is_there(self) -> None:
        """The all-set needs no index: it answers whatever the records say."""
        for shape in {self.current, self.previous}:
            assert RELEASES[shape].objects.pks() == sorted(self.objects)


LIMITS = {
    "one call": querying.Limits(),
    "walks": querying.Limits(budget=0, walk=3, rows=2, writes=2, sort=2, keys=0),
}
"""Real limits, and limits so small that queries walk in many calls: the refusal is checked
in every call of a walk (see tests/test_stateful.py, LIMITS)."""


@pytest.mark.parametrize("limits", sorted(LIMITS))
def test_schema_state_machine(client: redis.Redis, limits: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``client`` fixture connects typedredis through the executor of each kind."""
    monkeypatch.setattr(querying, "LIMITS", LIMITS[limits])
    monkeypatch.setattr(reindex, "FILL_PER_CALL", 2)  # jobs of several batches, writes between
    monkeypatch.setattr(reindex, "CLEAR_PER_CALL", 2)
    run_state_machine_as_test(
        lambda: SchemaMachine(client),
        settings=settings(
            max_examples=int(os.environ.get("TYPEDREDIS_STATEFUL_EXAMPLES", "200")),
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    support.clean(client, shared=support.SHARED)
