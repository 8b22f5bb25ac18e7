"""Concurrency against a real server: processes racing to save the same objects, and readers
running while `reset` swaps the dataset."""

from __future__ import annotations

import multiprocessing
import random
import threading
from typing import Any

import pytest
import redis

import typedredis
from typedredis import Indexed, Model

from . import support
from .support import check_invariants, key


class Racer(Model, key=key("racer")):
    color: Indexed[str]
    size: Indexed[int]
    owner: Indexed[str | None] = None
    counter: int = 0


COLORS = ["red", "green", "blue"]
OBJECTS = 20


def hammer(url: str, seed: int, rounds: int, kind: support.Kind) -> None:
    """Save the same objects over and over from several processes, with stale in-memory copies."""
    support.connect(url, kind=kind)
    rng = random.Random(seed)
    cached: dict[int, Racer] = {}
    for _ in range(rounds):
        pk = rng.randint(1, OBJECTS)
        if pk not in cached or rng.random() < 0.3:
            cached[pk] = Racer.get(pk)
        obj = cached[pk]  # often stale: another process changed the stored object meanwhile
        obj.color = rng.choice(COLORS)
        obj.size = rng.randint(0, 3)
        obj.owner = rng.choice([None, f"p{seed}"])
        obj.counter += 1
        if rng.random() < 0.1:
            Racer.save_all([obj, Racer.get(rng.randint(1, OBJECTS))])
        else:
            obj.save()


def test_concurrent_saves_of_the_same_objects_keep_indexes_exact(
    client: redis.Redis, redis_url: str, executor_kind: support.Kind
) -> None:
    Racer.save_all([Racer(color="red", size=0) for _ in range(OBJECTS)])
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(target=hammer, args=(redis_url, seed, 400, executor_kind)) for seed in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    check_invariants(client, Racer)
    assert Racer.objects.count() == OBJECTS
    by_color = sum(Racer.query(Racer.f.color == c).count() for c in COLORS)
    assert by_color == OBJECTS, "every object is in exactly one color index"


class Snapshot(Model, key=key("snapshot")):
    version: Indexed[int]
    group: Indexed[int]


def test_reset_is_seen_wholly_old_or_wholly_new(client: redis.Redis) -> None:
    sizes = {1: 3000, 2: 4500, 3: 2000, 4: 5000}
    Snapshot.reset([Snapshot(version=1, group=i % 7) for i in range(sizes[1])])
    observations: list[tuple[str, object]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            everything = Snapshot.objects.all()
            versions = {s.version for s in everything}
            observations.append(("all", (versions, len(everything))))
            group = Snapshot.query(Snapshot.f.group == 3).all()
            observations.append(("group", ({s.version for s in group}, len(group))))
            observations.append(("count", Snapshot.objects.count()))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in (2, 3, 4):
            Snapshot.reset([Snapshot(version=version, group=i % 7) for i in range(sizes[version])])
    finally:
        stop.set()
        reader.join()
    assert len(observations) > 10
    group3 = {v: sum(1 for i in range(n) if i % 7 == 3) for v, n in sizes.items()}
    for kind, seen in observations:
        if kind == "count":
            assert seen in sizes.values()
            continue
        versions, total = seen  # type: ignore[misc]
        assert len(versions) == 1, f"a read mixed datasets: {versions}"
        wanted = sizes if kind == "all" else group3
        assert total == wanted[next(iter(versions))]
    check_invariants(client, Snapshot)
    assert {s.version for s in Snapshot.objects.all()} == {4}


def test_reset_never_reuses_primary_keys(client: redis.Redis) -> None:
    Snapshot.reset([Snapshot(version=1, group=0) for _ in range(3)])
    first = Snapshot.objects.pks()
    Snapshot.reset([Snapshot(version=2, group=0) for _ in range(3)])
    second = Snapshot.objects.pks()
    assert min(second) > max(first)
    check_invariants(client, Snapshot)


def test_reset_discards_a_dead_resets_staging(client: redis.Redis) -> None:
    from typedredis import operations
    from typedredis.testing import run_batch

    spec = Snapshot.spec()
    # a reset that died after staging: begin + stage, never switched
    op = operations.reset(spec)
    next(op)  # Pull: the objects
    (gen,) = run_batch(client, op.send([Snapshot(version=9, group=1)]))  # reset_begin
    run_batch(client, op.send([gen]))  # the staging save
    op.close()
    assert client.zscore(spec.keys.staging, gen) is not None
    client.zadd(spec.keys.staging, {gen: 0})  # its heartbeat is long gone
    Snapshot.reset([Snapshot(version=1, group=2)])
    check_invariants(client, Snapshot)
    assert [s.version for s in Snapshot.objects.all()] == [1]


def test_a_reclaimed_staging_generation_aborts_the_reset(client: redis.Redis) -> None:
    from typedredis import ResetAborted, operations
    from typedredis.testing import run_batch

    Snapshot.reset([Snapshot(version=1, group=0)])
    spec = Snapshot.spec()
    op = operations.reset(spec)
    next(op)  # Pull: the objects
    (gen,) = run_batch(client, op.send([Snapshot(version=2, group=0)]))  # reset_begin
    client.zrem(spec.keys.staging, gen)  # another process judged this reset abandoned
    batch = op.send([gen])
    with pytest.raises(ResetAborted, match="old dataset is still in place"):
        while True:  # what an executor does, from the second batch on
            try:
                replies = run_batch(client, batch)
            except redis.ResponseError as exc:  # what the reply policy turns into ServerError
                batch = op.throw(typedredis.ServerError(str(exc), code="ERR", reply=str(exc)))
                continue
            batch = op.send(replies)
    assert [s.version for s in Snapshot.objects.all()] == [1]
    check_invariants(client, Snapshot)


# -- a result listed in one call, fetched in chunks of calls ---------------------------------------


@pytest.fixture
def small_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four rows per call: a result of more is listed by its first call, then fetched in chunks."""
    from typedredis import querying

    monkeypatch.setattr(querying, "LIMITS", querying.Limits(rows=4))


def fetch_with(client: redis.Redis, between: Any) -> tuple[list[Racer], list[bytes]]:
    """All red racers, by hand: ``between()`` runs after the first call (which lists the
    result) and before its chunks; returns the result and the strategy of every call."""
    from typedredis import querying
    from typedredis.compiler import compile_formula
    from typedredis.testing import drive, run_batch

    strategies: list[bytes] = []

    def answer(call: Any) -> Any:
        if len(strategies) == 1:
            between()
        (reply,) = run_batch(client, [call])
        strategies.append(reply[1])
        return reply

    formula = compile_formula(Racer.f.color == "red")
    _, result = drive(querying.query(Racer.spec(), formula, "fetch"), answer)
    return result, strategies


def test_the_chunks_of_a_listed_result_skip_the_recheck_while_nothing_changed(
    client: redis.Redis, small_rows: None
) -> None:
    Racer.save_all([Racer(color="red", size=i) for i in range(10)])
    result, strategies = fetch_with(client, lambda: None)
    assert strategies == [b"keys", b"listed", b"listed", b"listed"], "10 rows: chunks of 4, 4, 2"
    assert [r.size for r in result] == list(range(10))


@pytest.mark.parametrize("change", ["save", "delete", "update"])
def test_an_object_changed_before_its_chunk_is_tested_again(
    client: redis.Redis, small_rows: None, change: str
) -> None:
    """A write between the call that listed the result and its chunks changes the write
    stamp: every chunk tests its objects again, and the one that no longer matches is left out."""
    Racer.save_all([Racer(color="red", size=i) for i in range(10)])

    def write() -> None:
        if change == "save":
            moved = Racer.get(7)
            moved.color = "blue"
            moved.save()
        elif change == "delete":
            Racer.get(7).delete()
        else:
            Racer.query(Racer.f.size == 6).update(color="green")

    result, strategies = fetch_with(client, write)
    assert b"listed" not in strategies and strategies[0] == b"keys"
    assert [r.pk for r in result] == [1, 2, 3, 4, 5, 6, 8, 9, 10], "pk 7 (size 6) no longer matches"
    assert all(r.color == "red" for r in result)
    check_invariants(client, Racer)


def test_an_older_writer_that_keeps_no_stamp_is_not_trusted(client: redis.Redis, small_rows: None) -> None:
    """A writer of an older release does not bump the write stamp, but it stores its own index
    signature (``1|...``, lib.lua note_indexes): the chunks then test their objects again. Its
    signature still vouches for the indexes: no call reads the index records."""
    Racer.save_all([Racer(color="red", size=i) for i in range(10)])
    spec = Racer.spec()
    gen = int(client.hget(spec.keys.meta, "gen") or 0)
    prefix = spec.keys.generation(gen)
    stamp = client.hget(spec.keys.meta, "n")

    def old_writer() -> None:  # what a save of pk 7 from red to blue by the older release leaves
        old = "1|" + spec.signature.partition("|")[2]
        client.hset(prefix + b"schema", ":w", old)
        blue, red = spec.field("color").member("blue"), spec.field("color").member("red")
        client.hset(spec.keys.object(gen, 7), "color", blue)
        client.srem(prefix + b"i:color:" + red, 7)
        client.sadd(prefix + b"i:color:" + blue, 7)

    for server in support.servers(client):  # every primary of a cluster
        server.config_resetstat()
    result, strategies = fetch_with(client, old_writer)
    assert client.hget(spec.keys.meta, "n") == stamp, "(the older writer left the stamp as it was)"
    assert b"listed" not in strategies
    assert "cmdstat_hgetall" not in support.commandstats(client), "its 1|... vouches for the indexes"
    assert [r.pk for r in result] == [1, 2, 3, 4, 5, 6, 8, 9, 10]
