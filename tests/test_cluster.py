"""typedredis on a real local Redis Cluster (3 primaries, each with a replica): models spread
over the nodes, a slot moved live under writers and readers, a write that meets a half-moved
slot, and a failover."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio.cluster
import redis.cluster

import typedredis
from typedredis import Indexed, Model, Sorted, querying
from typedredis.cluster import key_slot
from typedredis.errors import Unavailable
from typedredis.testing import RedisCluster, RedisServer, binary_version, find_server_binary

from .support import check_invariants, key

binary = find_server_binary()
if binary is None or binary_version(binary) < (7,):
    pytest.skip("a local Redis Cluster needs redis-server 7.0 or later", allow_module_level=True)


class Item(Model, key=key("cl-item")):
    batch: Indexed[int]
    group: Indexed[str]
    size: Sorted[int]


class Note(Model, key=key("cl-note")):
    text: Indexed[str]


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    with RedisCluster(primaries=3, replicas=1) as started:
        yield started


@pytest.fixture
def client(cluster: RedisCluster) -> Iterator[redis.cluster.RedisCluster]:
    cluster.flush()
    raw = cluster.client()
    typedredis.connect(raw)
    yield raw
    typedredis.disconnect()
    raw.close()


def slot_of(model: type[Model]) -> int:
    return key_slot(model.spec().keys.meta)


def other_primary(cluster: RedisCluster, node: RedisServer) -> RedisServer:
    return next(p for p in cluster.primaries() if p is not node)


def move_there_and_back(
    cluster: RedisCluster, slot: int, threads: list[threading.Thread], stop: threading.Event
) -> None:
    """Start ``threads``, move ``slot`` to another primary and back while they run, then set
    ``stop`` and wait for them."""
    for thread in threads:
        thread.start()
    source = cluster.node_of_slot(slot)
    target = other_primary(cluster, source)
    try:
        time.sleep(0.3)
        cluster.migrate_slot(slot, target)
        assert cluster.node_of_slot(slot) is target
        time.sleep(0.3)
        cluster.migrate_slot(slot, source)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def items(n: int, batch: int = 0) -> list[Item]:
    return [Item(batch=batch, group=f"g{i % 7}", size=i) for i in range(n)]


def test_models_spread_over_the_nodes_by_their_hash_tags(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    for i in range(50):  # find a second model on another node than Item's
        candidate = key(f"cl-note{i}")
        if cluster.node_of_key("{" + candidate + "}:meta") is not cluster.node_of_slot(slot_of(Item)):
            break

    class Spread(Model, key=candidate):
        text: Indexed[str]

    Item.save_all(items(20))
    Spread.save_all([Spread(text=f"t{i % 3}") for i in range(9)])
    assert Item.query(Item.f.group == "g1").count() == 3
    assert Spread.objects.filter(text="t2").count() == 3
    for model in (Item, Spread):  # every key of a model on the node that owns its slot
        node = cluster.node_of_slot(slot_of(model))
        with node.client() as plain:
            assert plain.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot_of(model)) > 0
    check_invariants(client, Item)
    check_invariants(client, Spread)


def test_connect_takes_cluster_clients_and_urls(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    made = typedredis.connect(cluster.url, Note, cluster=True)
    assert isinstance(made, redis.cluster.RedisCluster)
    note = Note(text="hi").save()
    assert Note.get(note.pk or 0) == note

    async def main() -> None:
        made = typedredis.connect(cluster.url, Note, asyncio=True, cluster=True)
        assert isinstance(made, redis.asyncio.cluster.RedisCluster)
        assert await Note.objects.filter(text="hi").acount() == 1
        await Note(text="async").asave()
        await typedredis.adisconnect(Note)
        await made.aclose()

    asyncio.run(main())
    assert Note.objects.filter(text="async").count() == 1
    typedredis.disconnect(Note)
    made.close()


def test_a_write_never_half_applies_while_its_slot_migrates(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    """One object's hash has moved to the importing node, the rest has not: a save of two
    objects would write the first and then fail at the second (Lua undoes nothing). It is
    refused before it writes anything, waits while the slot migrates, and runs once it moved."""
    first, second = items(2)
    Item.save_all([first, second])
    slot = slot_of(Item)
    source = cluster.node_of_slot(slot)
    target = other_primary(cluster, source)
    stored_first = client.hgetall(Item.spec().keys.object(0, first.pk or 0))
    cluster.begin_migration(slot, target)
    with source.client() as plain:
        moved = Item.spec().keys.object(0, second.pk or 0)
        plain.execute_command("MIGRATE", "127.0.0.1", cluster.port_of(target), "", 0, 5000, "KEYS", moved)
        first.size, second.size = 1000, 2000

        typedredis.connect(cluster.client(), Item, deadline=0.3)
        with pytest.raises(Unavailable, match=r"could not run save for 0\.3 s.*nothing was written"):
            Item.save_all([first, second])
        with pytest.raises(Unavailable):
            Item.query(Item.f.group == "g0").count()  # reads wait too: they see one state or none
        # nothing of the refused save was written on the source
        assert plain.hgetall(Item.spec().keys.object(0, first.pk or 0)) == stored_first

    typedredis.connect(client, Item)  # the default deadline: long enough for the migration
    done: list[Any] = []
    waiting = threading.Thread(target=lambda: done.append(Item.save_all([first, second]) or "saved"))
    waiting.start()
    time.sleep(0.2)
    assert not done  # still waiting for the slot
    while cluster.migrate_keys(slot, source, target, 100):
        pass
    cluster.finish_migration(slot, source, target)
    waiting.join()
    assert done and cluster.node_of_slot(slot) is target
    check_invariants(client, Item, {first.pk or 0: first, second.pk or 0: second})


@pytest.mark.parametrize("rows", [1000, 40], ids=["one-call-reads", "chunks-sent-ahead"])
def test_a_live_migration_loses_nothing_and_readers_never_see_a_mix(
    cluster: RedisCluster, client: redis.cluster.RedisCluster, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer (saves, deletes, inserts, resets) and two readers run while the model's slot
    moves to another primary and back; with 40 rows per call, a reader's ~290 rows come in
    chunk calls sent ahead, whose redirects are read at their collect."""
    monkeypatch.setattr(querying, "LIMITS", querying.Limits(rows=rows))
    n = 2000
    Item.reset(items(n))
    expected = {obj.pk or 0: obj for obj in Item.query().all()}
    slot = slot_of(Item)
    stop = threading.Event()
    errors: list[BaseException] = []
    done = {"writes": 0, "reads": 0}

    def writer() -> None:
        rng = random.Random(7)
        batch = 0
        try:
            while not stop.is_set():
                roll = rng.random()
                if roll < 0.02:  # a new dataset, atomically
                    batch += 1
                    Item.reset(items(n, batch))
                    expected.clear()
                    expected.update({obj.pk or 0: obj for obj in Item.query().all()})
                elif roll < 0.2:  # one out, one in
                    gone = rng.choice(list(expected))
                    Item.delete_many([gone])
                    del expected[gone]
                    new = Item(batch=batch, group="g1", size=rng.randint(0, 99)).save()
                    expected[new.pk or 0] = new
                else:
                    obj = expected[rng.choice(list(expected))]
                    obj.group, obj.size = f"g{rng.randint(0, 9)}", rng.randint(0, 10**6)
                    obj.save()
                done["writes"] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                found = Item.query(Item.f.group == "g1").all()
                assert len({obj.batch for obj in found}) <= 1, "a reader saw two datasets at once"
                assert n - 1 <= Item.query().count() <= n
                done["reads"] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=writer),
        threading.Thread(target=reader),
        threading.Thread(target=reader),
    ]
    move_there_and_back(cluster, slot, threads, stop)
    assert not errors, errors
    assert done["writes"] > 0 and done["reads"] > 0
    check_invariants(client, Item, expected)


def test_gets_without_a_script_read_exact_objects_while_the_slot_migrates(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    """A get after the first is an HMGET and an HGET of the generation (no script): while the
    slot moves away and back, each is redirected, waits, and still reads the stored object."""
    Item.reset(items(3000))
    expected = {obj.pk or 0: obj for obj in Item.query().all()}
    pks = list(expected)
    slot = slot_of(Item)
    stop = threading.Event()
    errors: list[BaseException] = []
    done = [0, 0]

    def getter(k: int) -> None:
        rng = random.Random(k)
        try:
            while not stop.is_set():
                pk = rng.choice(pks)
                assert Item.get(pk) == expected[pk]
                done[k] += 1
        except BaseException as exc:  # reported below
            errors.append(exc)

    scripts = sum(int(s.get("calls", 0)) for s in _evalsha_stats(client))
    threads = [threading.Thread(target=getter, args=(k,)) for k in (0, 1)]
    move_there_and_back(cluster, slot, threads, stop)
    assert not errors, errors
    assert min(done) > 0
    gets_by_script = sum(int(s.get("calls", 0)) for s in _evalsha_stats(client)) - scripts
    assert gets_by_script < sum(done) / 2, "most gets ran no script"


def _evalsha_stats(client: redis.cluster.RedisCluster) -> list[dict[str, Any]]:
    return [
        client.get_redis_connection(node).info("commandstats").get("cmdstat_evalsha", {})
        for node in client.get_primaries()
    ]


def test_a_failover_resumes_and_keeps_every_replicated_write(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    """Kill the primary that holds the model; once its replica took over, calls resume (its
    script cache is empty: NOSCRIPT is answered by sending the script) and the indexes are
    exact. Replication is asynchronous: only writes the replica acknowledged (WAIT) survive a
    kill for certain."""
    saved = items(300)
    Item.save_all(saved)
    expected = {obj.pk or 0: obj for obj in saved}
    slot = slot_of(Item)
    primary = cluster.node_of_slot(slot)
    with primary.client() as plain:
        assert plain.execute_command("WAIT", 1, 5000) == 1
    cluster.kill(primary)
    try:
        started = time.monotonic()
        obj = expected[saved[0].pk or 0]
        obj.group = "after"
        obj.save()  # waits for the replica to take over
        waited = time.monotonic() - started
        assert Item.query(Item.f.group == "after").count() == 1
        cluster.wait_for_failover(primary)
        assert cluster.node_of_slot(slot) is not primary
        check_invariants(client, Item, expected)
        print(f"a save waited {waited:.2f} s for the failover")
    finally:
        cluster.restart(primary)  # it comes back as a replica


def test_the_cli_finds_the_model_on_a_cluster(
    cluster: RedisCluster, client: redis.cluster.RedisCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    from typedredis import cli

    Item.save_all(items(10))
    try:
        assert cli.main(["check", f"{__name__}:Item", "--url", cluster.url, "--cluster"]) == 0
        assert cli.main(["stats", f"{__name__}:Item", "--url", cluster.url, "--cluster", "--json"]) == 0
    finally:
        typedredis.disconnect(Item)
    assert '"objects": 10' in capsys.readouterr().out
