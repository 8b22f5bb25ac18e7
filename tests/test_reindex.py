"""Online reindex: indexes declared or changed after objects were stored are built while
readers and writers go on, resume after an interruption, and never overwrite a concurrent
save; the indexes are refused until the job makes them ready.

Each test plays a deploy, as tests/test_schema.py does: a model class is defined and objects
are stored, then "the next release" defines the same model (same key) with other indexes.
"""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
import redis

import typedredis
from typedredis import (
    Compound,
    Indexed,
    IndexNotReady,
    Model,
    ReindexAborted,
    ReindexReport,
    Sorted,
    Unique,
    UniqueViolation,
    reindex,
)

from . import support
from .support import another_process, check_invariants, key, python_filter, records, release

NAMES = ("shoe", "sock", "boot", "hat")


@pytest.fixture(autouse=True)
def fresh_classes() -> None:
    for name in ("item", "reading", "person", "order"):
        release(name)


def test_a_new_index_is_built_online_and_then_served(client: redis.Redis) -> None:
    class Item(Model, key=key("item")):
        name: Indexed[str]
        color: str
        size: float

    Item.save_all([Item(name=NAMES[i % 4], color=("red", "blue")[i % 2], size=i / 2) for i in range(250)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]
        color: Indexed[str]
        size: Sorted[float]
        added: Indexed[str] = "none"  # a field added with a default: old objects lack it
        __indexes__: ClassVar[Any] = (Compound("color", "size"),)

    with pytest.raises(IndexNotReady, match=r"typedredis reindex tests\.test_reindex:.*Item2"):
        Item2.query(Item2.f.color == "red").count()
    report = Item2.reindex()
    assert set(report.built) == {"e:color", "s:size", "e:added", "color_size"}
    assert (report.indexed, report.skipped, report.removed) == (250, 0, ())
    assert {name: v for name, v in records(client, Item2).items() if not name.startswith(":")} == {
        "e:name": "ready:m1",
        "e:color": "ready:m1",
        "e:added": "ready:m1",
        "s:size": "ready:float",
        "color_size": "ready",
    }
    objects = {o.pk: o for o in Item2.objects.all()}
    assert set(Item2.query(Item2.f.color == "red").pks()) == python_filter(objects, "color", "red")
    assert Item2.query(Item2.f.added == "none").count() == 250
    red_small = Item2.query(Item2.f.color == "red", Item2.f.size < 20)
    assert red_small.pks() == sorted(pk for pk, o in objects.items() if o.color == "red" and o.size < 20)
    assert red_small.plan("count")["strategy"] == "exact", "a range of the compound's sorted set"
    assert Item2.objects.order_by(Item2.f.size.desc()).first() == max(objects.values(), key=lambda o: o.size)
    check_invariants(client, Item2)
    assert Item2.reindex() == ReindexReport((), (), 0, 0), "nothing left to do"


def test_a_sorted_field_whose_type_changed_is_rebuilt(client: redis.Redis) -> None:
    class Reading(Model, key=key("reading")):
        meter: Indexed[str]
        value: Sorted[int]
        __indexes__: ClassVar[Any] = (Compound("meter", "value"),)

    Reading.save_all([Reading(meter=("a", "b")[i % 2], value=i) for i in range(120)])
    release("reading")

    class Reading2(Model, key=key("reading")):
        meter: Indexed[str]
        value: Sorted[float]
        __indexes__: ClassVar[Any] = (Compound("meter", "value"),)

    Reading2(meter="a", value=0.5).save()  # a float sort key in an int index: both are refused
    with pytest.raises(IndexNotReady):
        Reading2.query(Reading2.f.value >= 100.0).count()
    report = Reading2.reindex()
    assert set(report.built) == {"s:value", "meter_value"}, "the compound holds the field's sort keys"
    assert Reading2.query(Reading2.f.value >= 100.0).count() == 20
    assert Reading2.query(Reading2.f.meter == "a", Reading2.f.value < 1.0).pks() == [1, 121]
    check_invariants(client, Reading2)


def test_concurrent_saves_and_deletes_are_never_overwritten(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: Indexed[str]
        size: int

    Item.save_all([Item(name=NAMES[i % 4], size=i) for i in range(1500)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]
        size: Sorted[int]

    stop = threading.Event()
    writes: list[int] = []

    def writer() -> None:  # the next release's writers, while the reindex runs
        rnd = random.Random(7)
        with another_process(redis_url):
            while not stop.is_set():
                pk = rnd.randrange(1, 1600)
                if rnd.random() < 0.2:
                    Item2.delete_many([pk])
                else:
                    Item2(pk=pk, name=rnd.choice(NAMES), size=rnd.randrange(10_000)).save()
                writes.append(pk)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = Item2.reindex(progress=lambda done, total: stop.wait(0.01))
    finally:
        stop.set()
        thread.join()
    assert len(writes) > 20, "the writer ran during the reindex"
    assert report.indexed + report.skipped <= 1600
    objects = {o.pk: o for o in Item2.objects.all()}
    assert set(Item2.query(Item2.f.size >= 5000).pks()) == {pk for pk, o in objects.items() if o.size >= 5000}
    check_invariants(client, Item2)


def test_an_interrupted_reindex_resumes_where_it_stopped(client: redis.Redis) -> None:
    class Item(Model, key=key("item")):
        name: str

    Item.save_all([Item(name=NAMES[i % 4]) for i in range(450)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]

    class Crash(Exception):
        pass

    def crash(done: int, total: int) -> None:
        if done >= 200:
            raise Crash

    with pytest.raises(Crash):
        Item2.reindex(progress=crash)
    with pytest.raises(IndexNotReady):
        Item2.objects.filter(name="shoe").count()
    Item2(name="shoe").save()  # written while nothing runs the job: the writer maintains it
    report = Item2.reindex()
    assert report.built == ("e:name",)
    assert report.indexed == 251, "the objects after the checkpoint only (pk 451 included)"
    assert Item2.objects.filter(name="shoe").count() == 114
    check_invariants(client, Item2)


def test_a_writer_without_the_index_aborts_the_reindex(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: str

    Item.save_all([Item(name=NAMES[i % 4]) for i in range(300)])
    old = Item
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]

    def old_release_writes(done: int, total: int) -> None:
        if done == 100:
            with another_process(redis_url):
                old(name="sock").save()  # the previous release, still deployed somewhere

    with pytest.raises(ReindexAborted, match=r"Item2: a process whose code does not maintain"):
        Item2.reindex(progress=old_release_writes)
    with pytest.raises(IndexNotReady, match="does not define this index"):
        Item2.objects.filter(name="sock").count()
    assert Item2.reindex().built == ("e:name",), "once the old release is gone, it goes through"
    assert Item2.objects.filter(name="sock").count() == 76
    check_invariants(client, Item2)


def test_entries_of_another_encoding_written_during_the_job_do_not_outlive_it(
    client: redis.Redis, redis_url: str
) -> None:
    """The previous release (float sort keys) saves an object after the job has cleared the
    index it rebuilds with int sort keys; the job's fill then reaches that object. The float
    entry must leave with it: once every object is gone, the index is empty (and so ready),
    and an entry left behind would be answered for an object that does not exist."""

    class Reading(Model, key=key("reading")):
        value: Sorted[float]

    Reading.save_all([Reading(value=float(i)) for i in range(300)])
    old = Reading
    release("reading")

    class Reading2(Model, key=key("reading")):
        value: Sorted[int]

    def old_release_writes(done: int, total: int) -> None:
        if done == 100:  # the clear phase is over; the fill has 200 objects and this one to go
            with another_process(redis_url):
                old(value=-3.0).save()

    with pytest.raises(ReindexAborted):
        Reading2.reindex(progress=old_release_writes)
    Reading2.objects.delete()
    Reading2(value=5).save()  # an empty model: its indexes are complete, and ready
    assert records(client, Reading2)["s:value"] == "ready:int"
    assert Reading2.query(Reading2.f.value < 100).count() == 1, "no entry of a deleted object"
    check_invariants(client, Reading2)


def test_a_new_unique_field_with_shared_values_is_refused(client: redis.Redis) -> None:
    class Person(Model, key=key("person")):
        email: str

    Person.save_all([Person(email=f"{i}@x") for i in range(150)] + [Person(email="7@x")])
    release("person")

    class Person2(Model, key=key("person")):
        email: Unique[str]

    with pytest.raises(UniqueViolation, match=r"'7@x' would be shared by the objects with pks") as info:
        Person2.reindex()
    assert info.value.field == "email"
    with pytest.raises(IndexNotReady):
        Person2.get_by(Person2.f.email, "1@x")
    Person2.delete_many([151])
    assert Person2.reindex().built == ("e:email",)
    assert Person2.get_by(Person2.f.email, "7@x").pk == 8
    check_invariants(client, Person2)


def test_a_removed_index_is_cleaned_up(client: redis.Redis) -> None:
    class Order(Model, key=key("order")):
        status: Indexed[str]
        placed: Sorted[datetime]

    start = datetime(2026, 1, 1, tzinfo=UTC)
    Order.save_all([Order(status=("open", "paid")[i % 2], placed=start) for i in range(100)])
    release("order")

    class Order2(Model, key=key("order")):  # no index on status, nor on placed, any more
        status: str
        placed: datetime

    Order2(status="open", placed=start).save()  # the two indexes are now dropped
    prefix = Order2.spec().keys.generation(int(client.hget(Order2.spec().keys.meta, "gen") or b"0"))
    server = support.owner(client, Order2)
    assert server.keys(prefix + b"i:status:*")  # (KEYS on a private test server only)
    assert client.exists(prefix + b"s:placed")
    assert client.hexists(prefix + b"o:1", "~placed")
    report = Order2.reindex()
    assert (report.built, report.removed) == ((), ("e:status", "s:placed"))
    assert not server.keys(prefix + b"i:status:*") and not client.exists(prefix + b"s:placed")
    assert not client.hexists(prefix + b"o:1", "~placed"), "the hidden fields of the removed index go too"
    assert "e:status" not in records(client, Order2) and "s:placed" not in records(client, Order2)
    check_invariants(client, Order2)  # (no field of the objects left unexplained)


def test_a_reset_during_the_reindex_makes_it_start_over(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: str

    Item.save_all([Item(name=NAMES[i % 4]) for i in range(300)])
    old = Item
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]

    def reset_meanwhile(done: int, total: int) -> None:
        if done == 100:  # the refresh job of the new release
            with another_process(redis_url):
                Item2.reset([Item2(name="hat") for _ in range(10)])

    report = Item2.reindex(progress=reset_meanwhile)
    assert report == ReindexReport((), (), 0, 0), "the reset built the index of its generation"
    assert Item2.objects.filter(name="hat").count() == 10
    assert old.objects.count() == 10
    check_invariants(client, Item2)


def test_two_processes_share_one_job(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: str

    Item.save_all([Item(name=NAMES[i % 4]) for i in range(600)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]

    reports: list[ReindexReport] = []
    started, joined = threading.Event(), threading.Event()

    def second_process() -> None:
        started.wait(10)
        with another_process(redis_url):
            reports.append(Item2.reindex(progress=lambda done, total: joined.set()))

    def first_batch_done(done: int, total: int) -> None:
        started.set()
        joined.wait(10)  # the second process has done a batch of the same job

    thread = threading.Thread(target=second_process)
    thread.start()
    try:
        reports.append(Item2.reindex(progress=first_batch_done))
    finally:
        started.set()
        thread.join()
    assert [r.built for r in reports] == [("e:name",), ("e:name",)], reports
    assert sum(r.indexed for r in reports) >= 600, "each object indexed once at least, by one of them"
    assert Item2.objects.filter(name="hat").count() == 150
    check_invariants(client, Item2)


def test_a_reindex_by_other_code_replaces_the_job(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: str
        size: int

    Item.save_all([Item(name=NAMES[i % 4], size=i % 3) for i in range(300)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]
        size: int

    release("item")

    class Item3(Model, key=key("item")):  # another release: it also indexes size
        name: Indexed[str]
        size: Indexed[int]

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        raise Stop

    def other_code_starts(done: int, total: int) -> None:
        if done == 100:
            with another_process(redis_url), pytest.raises(Stop):
                Item3.reindex(progress=stop)  # its job replaces this one, and stays unfinished

    with pytest.raises(ReindexAborted, match="another reindex, planned by code with other indexes"):
        Item2.reindex(progress=other_code_starts)

    def other_code_finishes(done: int, total: int) -> None:
        if done == 100:
            with another_process(redis_url):
                assert set(Item3.reindex().built) == {"e:name", "e:size"}

    report = Item2.reindex(progress=other_code_finishes)  # replaces Item3's job, then is replaced
    assert report.built == ("e:name",), "its index is ready: the other job built it too"
    assert Item3.objects.filter(size=2).count() == 100
    check_invariants(client, Item3)


def test_areindex(client: redis.Redis, redis_url: str) -> None:
    class Item(Model, key=key("item")):
        name: str

    Item.save_all([Item(name=NAMES[i % 4]) for i in range(130)])
    release("item")

    class Item2(Model, key=key("item")):
        name: Indexed[str]

    async def main() -> ReindexReport:
        typedredis.connect(redis_url, asyncio=True, cluster=support.CLUSTER)
        try:
            return await Item2.areindex()
        finally:
            await typedredis.adisconnect()

    assert asyncio.run(main()).built == ("e:name",)
    typedredis.connect(redis_url, cluster=support.CLUSTER)
    assert Item2.objects.filter(name="boot").count() == 32
    check_invariants(client, Item2)


def test_the_operation_yields_bounded_calls() -> None:
    class Item(Model, key=key("item")):
        name: Indexed[str]

    operation = reindex.reindex(Item.spec())
    batch = next(operation)
    assert [call.script for call in batch] == ["reindex_begin"]
    assert reindex.FILL_PER_CALL <= 200 and reindex.CLEAR_PER_CALL <= 500
