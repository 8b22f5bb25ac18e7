"""Partial saves: an object loaded from Redis (or saved) writes only the fields it changed,
with their index entries moved from the values stored now, so that two processes changing
different fields of one object keep both changes; ``save(fields=...)`` writes the fields
named and nothing else."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest
import redis
from pydantic import Field

import typedredis
from typedredis import (
    Compound,
    Indexed,
    IndexNotReady,
    Model,
    NotFound,
    SchemaError,
    Sorted,
    Unique,
    UniqueViolation,
)

from . import support
from .support import check_invariants, key, release

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Ticket(Model, key=key("ticket")):
    title: str
    status: Indexed[str]
    owner: Indexed[str | None] = None
    slug: Unique[str]
    due: Sorted[datetime]
    tags: list[str] = Field(default_factory=list)
    __indexes__: ClassVar[Any] = (Compound("status", "due"),)


def ticket(n: int, **changes: Any) -> Ticket:
    values: dict[str, Any] = {
        "title": f"t{n}",
        "status": "open",
        "slug": f"s{n}",
        "due": T0 + timedelta(days=n),
    }
    return Ticket(**(values | changes))


def stored_fields(client: redis.Redis, obj: Model) -> set[str]:
    ks = obj.spec().keys
    gen = int(client.hget(ks.meta, "gen") or 0)
    return {name.decode() for name in client.hkeys(ks.object(gen, obj.pk or 0))}


def test_two_copies_changing_different_fields_keep_both_changes(client: redis.Redis) -> None:
    saved = ticket(1).save()
    first, second = Ticket.get(saved.pk), Ticket.get(saved.pk)
    first.title = "renamed"
    first.save()
    second.status = "closed"  # this copy still says title "t1": it does not write it
    second.save()
    both = Ticket.get(saved.pk)
    assert (both.title, both.status) == ("renamed", "closed")
    assert Ticket.query(Ticket.f.status == "closed").pks() == [saved.pk]
    check_invariants(client, Ticket)


def test_an_indexed_change_moves_the_entry_from_the_stored_value(client: redis.Redis) -> None:
    saved = ticket(1).save()
    first, stale = Ticket.get(saved.pk), Ticket.get(saved.pk)
    first.status = "pending"
    first.due = T0 + timedelta(days=30)
    first.save()
    stale.status = "closed"  # loaded as "open"; "pending" is stored: its entries move from there
    stale.save()
    assert Ticket.query(Ticket.f.status == "pending").count() == 0
    found = Ticket.query(Ticket.f.status == "closed", Ticket.f.due > T0 + timedelta(days=29)).all()
    assert [t.pk for t in found] == [saved.pk], (
        "the compound index combines the new status and the stored due"
    )
    check_invariants(client, Ticket)


def test_a_change_made_in_place_is_written(client: redis.Redis) -> None:
    saved = ticket(1, tags=["a"]).save()
    loaded = Ticket.get(saved.pk)
    loaded.tags.append("b")  # no assignment: found by comparing encodings
    loaded.save()
    assert Ticket.get(saved.pk).tags == ["a", "b"]


def test_an_unchanged_object_writes_nothing_and_a_deleted_one_is_stored_whole(client: redis.Redis) -> None:
    saved = ticket(1).save()
    loaded = Ticket.get(saved.pk)
    other = Ticket.get(saved.pk)
    other.title = "by another process"
    other.save()
    loaded.save()  # nothing changed: the other process's title stays
    assert Ticket.get(saved.pk).title == "by another process"
    Ticket.get(saved.pk).delete()
    loaded.owner = "ann"
    loaded.save()  # gone meanwhile: a save is an upsert, so it is stored whole
    assert Ticket.get(saved.pk) == loaded
    check_invariants(client, Ticket)


def test_objects_become_partial_after_their_first_save(client: redis.Redis) -> None:
    mine = ticket(1).save()
    theirs = Ticket.get(mine.pk)
    theirs.title = "theirs"
    theirs.save()
    mine.owner = "ann"
    mine.save()
    assert (Ticket.get(mine.pk).title, Ticket.get(mine.pk).owner) == ("theirs", "ann")


def test_save_fields_writes_only_the_fields_named(client: redis.Redis) -> None:
    saved = ticket(1).save()
    copy = ticket(1, title="ignored", status="closed", owner="bob")
    copy.pk = saved.pk  # a copy that was never loaded: fields= says what to write
    copy.save(fields=["status", "owner"])
    found = Ticket.get(saved.pk)
    assert (found.title, found.status, found.owner) == ("t1", "closed", "bob")
    assert Ticket.query(Ticket.f.owner == "bob").pks() == [saved.pk]
    check_invariants(client, Ticket)


def test_fields_left_out_of_save_fields_are_still_written_by_the_next_save(client: redis.Redis) -> None:
    saved = ticket(1).save()
    loaded = Ticket.get(saved.pk)
    loaded.title, loaded.owner = "new title", "ann"
    loaded.save(fields=["title"])
    assert Ticket.get(saved.pk).owner is None
    loaded.save()  # owner changed since it was loaded, and was never written
    assert (Ticket.get(saved.pk).title, Ticket.get(saved.pk).owner) == ("new title", "ann")
    built = ticket(2, title="built")
    built.pk = saved.pk
    built.save(fields=["title"])  # built in memory: it knows nothing of the other fields
    built.save()  # so this one writes it whole
    assert Ticket.get(saved.pk) == built


def test_save_fields_refuses_what_it_cannot_do_and_writes_nothing(client: redis.Redis) -> None:
    saved = ticket(1).save()
    with pytest.raises(SchemaError, match=r"Ticket.save\(fields=...\): 'nope' is not a stored field"):
        saved.save(fields=["title", "nope"])
    with pytest.raises(NotFound, match="has no pk"):
        ticket(2).save(fields=["title"])
    ghost = ticket(3, title="ghost")
    ghost.pk = 999
    with pytest.raises(NotFound, match="Ticket 999 is not stored"):
        ghost.save(fields=["title"])
    assert Ticket.objects.pks() == [saved.pk]
    check_invariants(client, Ticket)


def test_unique_fields_are_checked_only_where_they_are_written(client: redis.Redis) -> None:
    a, b, _ = ticket(1).save(), ticket(2).save(), ticket(3).save()
    stale_a = Ticket.get(a.pk)
    a.slug = "moved"  # frees "s1"
    a.save()
    b.slug = "s1"
    b.save()
    stale_a.title = "still mine"  # loaded with slug "s1", now b's: a partial save does not claim it
    stale_a.save()
    assert (Ticket.get(a.pk).slug, Ticket.get(a.pk).title) == ("moved", "still mine")
    stale_a.slug = "s3"  # (a change since it was saved; "s3" is the third ticket's)
    stale_a.title = "x"
    with pytest.raises(UniqueViolation):
        stale_a.save()
    assert Ticket.get(a.pk).title == "still mine", "a refused call wrote nothing"
    x, y = Ticket.get(a.pk), Ticket.get(b.pk)
    x.slug, y.slug = y.slug, x.slug
    Ticket.save_all([x, y])  # a swap of unique values, written in part
    assert (Ticket.get(a.pk).slug, Ticket.get(b.pk).slug) == ("s1", "moved")
    check_invariants(client, Ticket)


def test_a_save_of_several_calls_checks_only_the_unique_values_it_writes(client: redis.Redis) -> None:
    Ticket.save_all([ticket(n) for n in range(1, 151)])
    loaded = [t for t in Ticket.get_many(range(1, 151)) if t is not None]
    mover = Ticket.get(1)
    mover.slug = "elsewhere"
    mover.save()
    taker = Ticket.get(2)
    taker.slug = "s1"  # the value loaded[0] still holds in memory
    taker.save()
    for t in loaded[1:]:  # (ticket 2 is left as it was loaded: it writes nothing)
        t.title = "bulk"
    loaded[0].title = "bulk"
    Ticket.save_all(loaded[:1] + loaded[2:])  # two calls: the pre-check must not claim "s1" for 1
    assert (Ticket.get(1).slug, Ticket.get(1).title, Ticket.get(2).slug) == ("elsewhere", "bulk", "s1")
    check_invariants(client, Ticket)


def test_while_an_index_is_building_saves_write_whole_objects(client: redis.Redis) -> None:
    class Note(Model, key=key("partialnote")):
        text: str
        author: str

    Note.save_all([Note(text=f"n{i}", author="ann") for i in range(3)])
    release("partialnote")

    class Note2(Model, key=key("partialnote")):
        text: str
        author: Indexed[str]  # building until a reindex

    loaded = Note2.get(1)
    loaded.text = "changed"
    with pytest.raises(IndexNotReady, match=r"e:author is missing: run typedredis reindex") as caught:
        loaded.save(fields=["text"])  # (no writer of this release recorded the index yet)
    assert (caught.value.field, caught.value.state) == ("author", "missing")
    loaded.save()  # written whole, with its entry in the index being built
    assert Note2.get(1).text == "changed"
    loaded.text = "again"
    with pytest.raises(IndexNotReady, match=r"e:author is building: run typedredis reindex") as caught:
        loaded.save(fields=["text"])
    assert (caught.value.field, caught.value.state) == ("author", "building")
    assert Note2.get(1).text == "changed", "refused: nothing written"
    Note2.reindex()
    loaded.text = "partial again"
    loaded.save(fields=["text"])
    assert Note2.query(Note2.f.author == "ann").count() == 3
    check_invariants(client, Note2)
    release("partialnote")


def test_asave_fields(client: redis.Redis, redis_url: str) -> None:
    saved = ticket(1).save()

    async def main() -> None:
        typedredis.connect(redis_url, asyncio=True, cluster=support.CLUSTER)
        try:
            loaded = await Ticket.aget(saved.pk or 0)
            loaded.title = "async"
            loaded.status = "closed"
            await loaded.asave(fields=["title"])
        finally:
            await typedredis.adisconnect()

    asyncio.run(main())
    typedredis.connect(redis_url, cluster=support.CLUSTER)
    assert (Ticket.get(saved.pk).title, Ticket.get(saved.pk).status) == ("async", "open")


# -- processes changing different fields of the same objects -----------------------------------

FIELDS = ("title", "status", "owner", "tags")
OBJECTS = 10


def worker(url: str, which: int, rounds: int, kind: support.Kind) -> None:
    """Change one field only (FIELDS[which]) of random objects, from copies that are often stale."""
    support.connect(url, kind=kind)
    notes = support.raw_client(url)
    rng = random.Random(which)
    cached: dict[int, Ticket] = {}
    field = FIELDS[which]
    for n in range(rounds):
        pk = rng.randint(1, OBJECTS)
        if pk not in cached or rng.random() < 0.2:
            cached[pk] = Ticket.get(pk)
        obj = cached[pk]
        value: Any = f"{field}-{n}" if field != "tags" else [f"tag-{n}"]
        setattr(obj, field, value)
        obj.save()
        # the last value this process gave each object, for the check
        notes.set(f"{key('partial')}:{field}:{pk}", repr(value))


def test_processes_changing_different_fields_never_undo_each_other(
    client: redis.Redis, redis_url: str, executor_kind: support.Kind
) -> None:
    Ticket.save_all([ticket(n) for n in range(1, OBJECTS + 1)])
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=worker, args=(redis_url, which, 300, executor_kind))
        for which in range(len(FIELDS))
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    for obj in Ticket.objects.all():
        for field in FIELDS:
            last = client.get(f"{key('partial')}:{field}:{obj.pk}")
            if last is not None:  # the process changed this object: its last change stands
                assert repr(getattr(obj, field)) == last.decode(), (obj.pk, field)
    check_invariants(client, Ticket)
