"""Index records: an index that is not complete for the current dataset is never used.

Each test plays a deploy: a model class is defined, objects are stored, then "the next release"
defines the same model (same key) with other indexes, as a new process would.
"""

from __future__ import annotations

from typing import Any

import pytest
import redis

from typedredis import Indexed, IndexNotReady, Model, Sorted

from . import support
from .support import check_invariants, key, records, release


@pytest.fixture(autouse=True)
def fresh_classes() -> None:
    for name in ("paint", "meter", "empty", "gone", "stale"):
        release(name)


def test_an_index_added_to_stored_data_is_refused_until_rebuilt(client: redis.Redis) -> None:
    class Paint(Model, key=key("paint")):
        name: Indexed[str]

    Paint.save_all([Paint(name=n) for n in ("a", "b", "c")])
    release("paint")

    class Paint2(Model, key=key("paint")):  # the next release indexes a new field
        name: Indexed[str]
        color: Indexed[str] = "red"

    assert Paint2.query(Paint2.f.name == "a").count() == 1  # the old index is still served
    for query in (Paint2.f.color == "red", Paint2.f.color != "red"):
        with pytest.raises(IndexNotReady, match=r"Paint2\.color: its equality index is not ready") as info:
            Paint2.query(query).count()  # not the silent 0 (or 3) of an incomplete index
        assert (info.value.field, info.value.state) == ("color", "missing")
        assert "reset(" in str(info.value), "the message says how to rebuild it"
    Paint2(name="d").save()  # saves maintain it from now on, but it stays incomplete
    assert records(client, Paint2)["e:color"] == "building:m1"
    with pytest.raises(IndexNotReady) as info:
        Paint2.objects.filter(color="red").pks()
    assert info.value.state == "building"
    with pytest.raises(IndexNotReady):
        Paint2.get_by(Paint2.f.color, "red")

    Paint2.reset(Paint2.objects.all())
    assert Paint2.query(Paint2.f.color == "red").count() == 4
    assert records(client, Paint2)["e:color"] == "ready:m1"
    check_invariants(client, Paint2)


def test_a_sorted_field_whose_type_changes_is_refused_by_every_release(client: redis.Redis) -> None:
    class Meter(Model, key=key("meter")):
        reading: Sorted[int]

    Meter.save_all([Meter(reading=r) for r in (1, 5, 9)])
    old = Meter
    release("meter")

    class Meter2(Model, key=key("meter")):  # float sort keys are not int ones
        reading: Sorted[float]

    with pytest.raises(IndexNotReady, match=r"holds int sort keys, and the code declares float ones"):
        Meter2.query(Meter2.f.reading >= 2.0).count()
    with pytest.raises(IndexNotReady):
        Meter2.objects.order_by(Meter2.f.reading).first()
    assert old.query(old.f.reading >= 2).count() == 2  # the old release is still right...
    Meter2(reading=3.5).save()  # ...until the new one writes float keys into the index
    for cls in (old, Meter2):
        with pytest.raises(IndexNotReady):
            cls.query(cls.f.reading >= 2).count()  # type: ignore[attr-defined]  # both releases' fields

    Meter2.reset(Meter2.objects.all())
    assert Meter2.query(Meter2.f.reading >= 2.0).pks() == [2, 3, 4]
    check_invariants(client, Meter2)


def test_an_index_declared_while_the_model_is_empty_is_ready_at_once(client: redis.Redis) -> None:
    class Empty(Model, key=key("empty")):
        name: str

    Empty(name="x").save()
    Empty.delete_many([1])  # empty again: no object can be missing from a new index
    release("empty")

    class Empty2(Model, key=key("empty")):
        name: Indexed[str]

    Empty2(name="y").save()
    assert Empty2.objects.filter(name="y").count() == 1
    assert records(client, Empty2)["e:name"] == "ready:m1"


def test_a_building_index_is_ready_once_its_model_is_emptied(client: redis.Redis) -> None:
    class Empty(Model, key=key("empty")):
        name: str

    Empty(name="x").save()
    release("empty")

    class Empty2(Model, key=key("empty")):
        name: Indexed[str]

    Empty2(name="y").save()
    with pytest.raises(IndexNotReady):
        Empty2.objects.filter(name="y").count()
    Empty2.objects.delete()
    Empty2(name="z").save()
    assert Empty2.objects.filter(name="z").count() == 1
    check_invariants(client, Empty2)


def test_an_index_a_release_drops_is_refused_to_releases_that_still_define_it(client: redis.Redis) -> None:
    class Gone(Model, key=key("gone")):
        tag: Indexed[str]

    Gone.save_all([Gone(tag="a"), Gone(tag="b")])
    old = Gone
    release("gone")

    class Gone2(Model, key=key("gone")):
        tag: str  # no longer indexed: its writes no longer maintain the index

    Gone2.get(1).model_copy(update={"tag": "b"}).save()
    assert records(client, Gone2)["e:tag"] == "dropped:m1"
    assert records(client, Gone2)[":w"] == Gone2.spec().signature, "all of Gone2's indexes are ready"
    with pytest.raises(IndexNotReady, match="does not define this index") as info:
        old.objects.filter(tag="a").count()  # the index still lists pk 1 under "a"
    assert info.value.state == "dropped"
    old(tag="c").save()  # a save of the release that defines it does not make it complete
    with pytest.raises(IndexNotReady):
        old.objects.filter(tag="a").count()

    old.reset(old.objects.all())
    assert old.objects.filter(tag="b").pks() == [1, 2]
    check_invariants(client, old)


def test_a_generation_stored_before_index_records_is_served_as_it_was(client: redis.Redis) -> None:
    class Paint(Model, key=key("paint")):
        name: Indexed[str]

    Paint.save_all([Paint(name="a"), Paint(name="b")])
    ks = Paint.spec().keys
    client.delete(ks.generation(int(client.hget(ks.meta, "gen") or 0)) + b"schema")  # an older typedredis
    assert Paint.objects.filter(name="a").count() == 1
    Paint(name="c").save()  # adopted: recorded as its code left it
    assert records(client, Paint) == {":v": "1", "e:name": "ready:m1", ":w": Paint.spec().signature}
    assert Paint.objects.filter(name="c").count() == 1


def test_the_check_needs_no_extra_round_trip(client: redis.Redis, executor_kind: Any) -> None:
    class Paint(Model, key=key("paint")):
        name: Indexed[str]

    Paint(name="a").save()
    calls = _script_calls(client)
    Paint.objects.filter(name="a").count()
    assert _script_calls(client) - calls == 1, "one query.lua call, checks included"


def _script_calls(client: redis.Redis) -> int:
    stats = support.commandstats(client)
    return sum(int(v["calls"]) for k, v in stats.items() if k in ("cmdstat_evalsha", "cmdstat_eval"))


def test_a_dropped_index_stays_refused_even_once_its_model_is_empty(client: redis.Redis) -> None:
    """Objects deleted by a release without the index leave their entries in it: emptying the
    model does not make it trustworthy again, whatever encoding the next release declares."""

    class Stale(Model, key=key("stale")):
        b: Sorted[float]

    Stale(b=-3.0).save()
    release("stale")

    class Stale2(Model, key=key("stale")):
        b: int  # not indexed: deleting the object leaves its entry in the sorted index

    Stale2.objects.delete()
    release("stale")

    class Stale3(Model, key=key("stale")):
        b: Sorted[int]

    Stale3(b=5).save()
    with pytest.raises(IndexNotReady) as info:
        Stale3.query(Stale3.f.b < 10).count()  # the stale entry would be counted
    assert info.value.state == "dropped"
    Stale3.reset(Stale3.objects.all())
    assert Stale3.query(Stale3.f.b < 10).count() == 1
    check_invariants(client, Stale3)
