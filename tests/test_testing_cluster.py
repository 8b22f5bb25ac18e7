"""typedredis.testing.RedisCluster on its own (no typedredis models): a private cluster of three
primaries, each with a replica, whose slots can be moved live (whole or step by step) and whose
primaries can be killed, failed over and restarted; stopping it leaves no process behind."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
import redis
import redis.cluster
import redis.exceptions
from redis.crc import key_slot

from typedredis.testing import RedisCluster, RedisServer, binary_version, find_server_binary

binary = find_server_binary()
if binary is None or binary_version(binary) < (7,):
    pytest.skip("a local Redis Cluster needs redis-server 7.0 or later", allow_module_level=True)

killed: list[int] = []
"""The pids of the nodes a test killed (the fixture's teardown checks they are gone too)."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    started = time.monotonic()
    with RedisCluster(primaries=3, replicas=1) as running:
        print(f"\nthe cluster started in {running.startup_seconds:.2f} s")
        yield running
        pids = [node.pid for node in running.nodes]
        directories = [node.directory for node in running.nodes]
    # teardown: every process the cluster ever ran is gone, and so are the directories
    for pid in [*pids, *killed]:
        if pid is not None:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    assert not any(directory.exists() for directory in directories)
    print(f"the cluster ran {time.monotonic() - started:.2f} s in all")


@pytest.fixture
def client(cluster: RedisCluster) -> Iterator[redis.cluster.RedisCluster]:
    cluster.flush()
    with cluster.client() as fresh:
        yield fresh


def other_primary(cluster: RedisCluster, node: RedisServer) -> RedisServer:
    return next(p for p in cluster.primaries() if p is not node)


def fill(client: redis.cluster.RedisCluster, keys: list[str]) -> None:
    """Set every key (all of one slot, so one MSET can) to its own name."""
    assert len({key_slot(name.encode()) for name in keys}) == 1
    client.mset({name: name for name in keys})


def assert_readable(cluster: RedisCluster, keys: list[str]) -> None:
    """Every key holds its name, read through a new cluster client."""
    with cluster.client() as fresh:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            assert fresh.mget_nonatomic(chunk) == [name.encode() for name in chunk]


def test_the_slots_are_split_over_three_primaries_each_with_a_replica(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    primaries = cluster.primaries()
    assert primaries == cluster.nodes[:3] and len(cluster.nodes) == 6 and len(set(cluster.ports)) == 6
    assert cluster.url == cluster.urls[0] == f"redis://127.0.0.1:{cluster.ports[0]}"
    assert [cluster.node_of_slot(slot) for slot in (0, 5460, 5461, 10922, 10923, 16383)] == [
        primaries[0], primaries[0], primaries[1], primaries[1], primaries[2], primaries[2],
    ]  # fmt: skip
    for node in cluster.nodes:  # every node sees every slot owned, by the same primaries
        with node.client() as plain:
            assert b"cluster_state:ok" in plain.execute_command("CLUSTER", "INFO")
            ranges = sorted(
                (int(r[0]), int(r[1]), int(r[2][1])) for r in plain.execute_command("CLUSTER", "SLOTS")
            )
            assert ranges == [
                (0, 5460, cluster.ports[0]),
                (5461, 10922, cluster.ports[1]),
                (10923, 16383, cluster.ports[2]),
            ]
    masters = []
    for replica in cluster.nodes[3:]:
        with replica.client() as plain:
            info = plain.info("replication")
            assert info["role"] == "slave" and info["master_link_status"] == "up"
            masters.append(int(info["master_port"]))
    assert masters == cluster.ports[:3]  # replica i follows primary i

    names = [f"key{i}" for i in range(30)]
    assert len({cluster.node_of_key(name).pid for name in names}) == 3  # spread over every primary
    for name in names:
        client.set(name, name)
    assert [client.get(name) for name in names] == [name.encode() for name in names]
    for name in names:  # each key is on the primary that owns its slot, and on that one only
        owner = cluster.node_of_key(name)
        assert cluster.node_of_slot(key_slot(name.encode())) is owner
        for node in primaries:
            with node.client() as plain:
                count = plain.execute_command("CLUSTER", "COUNTKEYSINSLOT", key_slot(name.encode()))
                assert count == (1 if node is owner else 0)


def test_migrate_slot_moves_a_slot_and_its_keys_to_another_primary_and_back(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    keys = [f"{{moving}}:{i}" for i in range(2000)]
    slot = key_slot(b"moving")
    fill(client, keys)
    source = cluster.node_of_slot(slot)
    target = other_primary(cluster, source)

    started = time.monotonic()
    cluster.migrate_slot(slot, target, batch=100)
    took = time.monotonic() - started
    assert cluster.node_of_slot(slot) is target
    with target.client() as plain:
        assert plain.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 2000
    with source.client() as plain:
        assert plain.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert_readable(cluster, keys)

    cluster.migrate_slot(slot, target)  # it owns the slot already: nothing to do
    cluster.migrate_slot(slot, source, batch=500)
    assert cluster.node_of_slot(slot) is source
    assert_readable(cluster, keys)
    print(f"2000 keys moved in {took:.2f} s")


def test_a_half_migrated_slot_answers_ask_for_the_keys_that_moved(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    keys = [f"{{half}}:{i}" for i in range(200)]
    slot = key_slot(b"half")
    fill(client, keys)
    target = other_primary(cluster, cluster.node_of_slot(slot))

    source = cluster.begin_migration(slot, target)
    assert cluster.migrate_keys(slot, source, target, 100) == 100
    with target.client() as plain:
        moved = [name.decode() for name in plain.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)]
    with source.client() as plain:
        stayed = [name.decode() for name in plain.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)]
        assert moved and stayed and not set(moved) & set(stayed)
        with pytest.raises(redis.exceptions.AskError):
            plain.get(moved[0])  # gone from the source: "ask the target"
        assert plain.get(stayed[0]) == stayed[0].encode()  # still here: answered
    assert cluster.node_of_slot(slot) is source  # until finish_migration, the source owns it
    with cluster.client() as fresh:  # a cluster client follows the ASK redirections, key by key
        # (a multi-key command would get TRYAGAIN while the slot's keys are on two nodes)
        assert [fresh.get(name) for name in keys] == [name.encode() for name in keys]

    moved_count = 100
    while count := cluster.migrate_keys(slot, source, target, 30):
        moved_count += count
    assert moved_count == 200
    cluster.finish_migration(slot, source, target)
    assert cluster.node_of_slot(slot) is target
    assert_readable(cluster, keys)
    cluster.migrate_slot(slot, source)  # put it back for the next test
    assert_readable(cluster, keys)


def test_a_killed_primary_fails_over_to_its_replica_and_comes_back_as_a_replica(
    cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    old = cluster.nodes[0]  # the first node, which cluster.url names: client() must not need it
    replica = cluster.nodes[3]
    names = [name for name in (f"before{i}" for i in range(300)) if cluster.node_of_key(name) is old][:20]
    assert len(names) == 20
    for name in names:
        client.set(name, name)
    with old.client() as plain:
        assert plain.execute_command("WAIT", 1, 5000) == 1  # the replica has them all

    pid = old.pid
    assert pid is not None
    killed.append(pid)
    started = time.monotonic()
    cluster.kill(old)
    assert not old.running
    cluster.wait_for_failover(old)
    failover = time.monotonic() - started
    assert all(cluster.node_of_key(name) is replica for name in names)  # its former slots
    assert old not in cluster.primaries() and replica in cluster.primaries() and len(cluster.primaries()) == 3

    with cluster.client() as fresh:  # a fresh client, though the first node is down
        assert [fresh.get(name) for name in names] == [name.encode() for name in names]
        for name in names:
            fresh.set(name, name + "-after")
        assert [fresh.get(name) for name in names] == [(name + "-after").encode() for name in names]

    started = time.monotonic()
    cluster.restart(old)
    rejoined = time.monotonic() - started
    assert old.running and old.pid != pid
    with old.client() as plain:
        info = plain.info("replication")
        assert info["role"] == "slave" and int(info["master_port"]) == cluster.port_of(replica)
    assert all(cluster.node_of_key(name) is replica for name in names)  # it does not take them back
    with cluster.client() as fresh:
        assert [fresh.get(name) for name in names] == [(name + "-after").encode() for name in names]
    print(f"failover took {failover:.2f} s, the restarted node rejoined in {rejoined:.2f} s")
