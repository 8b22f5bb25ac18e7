"""Failure modes, each on a real private server: a crash or restart during a reset's clean-up,
eviction, a full memory, least-privilege ACLs and a dead server (docs: Failure modes)."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator

import pytest
import redis

import typedredis
from typedredis import Indexed, Model, ServerError, Sorted, TypedRedisWarning, Unavailable, Unique, model
from typedredis.testing import RedisServer

from .support import check_invariants, key, model_keys


class Row(Model, key=key("failrow")):
    grp: Indexed[int]
    rank: Sorted[int]
    slug: Unique[str]
    text: str = ""


def rows(n: int, tag: str, grp: int = 0) -> Iterator[Row]:
    for i in range(n):
        yield Row(grp=grp if grp else i % 20, rank=i, slug=f"{tag}{i}", text="x" * 20)


@pytest.fixture
def aof_server() -> Iterator[RedisServer]:
    with RedisServer(appendonly=True) as server:
        typedredis.connect(server.url)
        yield server


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["kill", "shutdown"])
def test_a_restart_during_reset_cleanup_leaks_no_key(aof_server: RedisServer, stop: str) -> None:
    Row.reset(rows(30_000, "old"))
    watcher = aof_server.client()
    retired = Row.spec().keys.retired
    errors: list[BaseException] = []

    def second_reset() -> None:
        try:
            Row.reset(rows(30_000, "new"))
        except typedredis.TypedRedisError as exc:  # the server goes away under the cleanup
            errors.append(exc)

    thread = threading.Thread(target=second_reset)
    thread.start()
    deadline = time.monotonic() + 60
    while not watcher.exists(retired):  # the switch happened: the old generation is being removed
        assert time.monotonic() < deadline and thread.is_alive(), "the reset never reached its clean-up"
    time.sleep(0.002)
    if stop == "kill":
        aof_server.kill()
    else:
        aof_server.shutdown()
    thread.join()
    watcher.close()
    aof_server.restart()
    with aof_server.client() as raw:
        assert raw.exists(retired), "the clean-up was interrupted (else this test proves nothing)"
        assert Row.objects.count() == 30_000  # the switch had happened: the new dataset is served
        Row.reset(rows(10, "after"))  # the next reset finishes every interrupted clean-up
        check_invariants(raw, Row)
        assert len(model_keys(raw, Row)) < 200


def test_evicted_objects_never_come_back_as_phantoms() -> None:
    with RedisServer(args=("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru")) as server:
        with pytest.warns(TypedRedisWarning, match="allkeys-lru"):
            typedredis.connect(server.url)
            Row.objects.count()
        saved: dict[int, Row] = {}
        for start in range(0, 30_000, 1_000):
            batch = list(rows(1_000, f"b{start}-", grp=1))
            Row.save_all(batch)
            saved.update({r.pk: r for r in batch if r.pk is not None})
        with server.client() as raw:
            assert int(raw.info("stats")["evicted_keys"]) > 0, "nothing was evicted: the test proves nothing"
        # the index set itself may be evicted (then the query misses objects: documented)
        for obj in Row.query(Row.f.grp == 1).all():  # an evicted hash is skipped, never rebuilt
            assert obj.pk is not None and obj == saved[obj.pk]
        survivors = [obj for obj in Row.get_many(list(saved)) if obj is not None]
        assert survivors, "some objects survive (else this test proves nothing)"
        assert all(obj == saved[obj.pk or 0] for obj in survivors)
        ordered = Row.query(Row.f.grp == 1).order_by(Row.f.rank.desc()).limit(50).all()
        assert all(obj == saved[obj.pk or 0] for obj in ordered)


def test_reads_keep_working_when_memory_is_full() -> None:
    with RedisServer(args=("--maxmemory-policy", "noeviction")) as server:
        typedredis.connect(server.url)
        Row.save_all(list(rows(3_000, "a")))
        with server.client() as raw:  # the memory is now over the limit, and stays there
            used = int(raw.info("memory")["used_memory"])
            raw.config_set("maxmemory", used - 200_000)
            with pytest.raises(redis.ResponseError):
                raw.set("one more", "x")
        with pytest.raises(ServerError) as refused:  # a write is refused, and writes nothing
            Row(grp=5, rank=-1, slug="new").save()
        assert refused.value.code == "OOM" and refused.value.reply.startswith("OOM ")
        with pytest.raises(ServerError) as refused:  # its first write would remove an entry
            Row.query(Row.f.grp == 4).update(grp=77)
        assert refused.value.code == "OOM" and Row.query(Row.f.grp == 77).count() == 0
        with pytest.raises(ServerError):  # an existing object: its first write would be a removal
            Row(pk=1, grp=9, rank=0, slug="a0").save()
        grp3 = [r for r in range(3_000) if r % 20 == 3]
        assert Row.query(Row.f.grp == 3).count() == len(grp3)
        assert Row.query(Row.f.grp == 3, Row.f.rank >= 1_000).count() == len([r for r in grp3 if r >= 1_000])
        assert Row.query(Row.f.grp.in_([3, 4]), Row.f.rank < 100).count() == 10
        union = Row.query((Row.f.grp == 3) | (Row.f.rank < 10))
        assert union.plan("pks")["strategy"] == "sets"  # it would need scratch sets: it walks instead
        assert union.pks() == sorted({r + 1 for r in range(3_000) if r % 20 == 3 or r < 10})
        either = Row.query((Row.f.grp == 3) | (Row.f.grp == 4), ~(Row.f.rank < 50)).all()
        assert [r.rank for r in either] == [r for r in range(3_000) if r % 20 in (3, 4) and r >= 50]
        assert Row.query(Row.f.grp != 3).order_by(Row.f.rank.desc()).limit(3).pks() == [3000, 2999, 2998]
        page = Row.query(Row.f.grp == 3).order_by(Row.f.rank.desc()).offset(2).limit(3).all()
        assert [r.rank for r in page] == [2943, 2923, 2903]
        assert Row.get_by(Row.f.slug, "a7").rank == 7
        assert sum(1 for _ in Row.objects.iter(batch=500)) == 3_000
        assert Row.query(Row.f.grp == 3).delete() == len(grp3)  # deleting frees memory: allowed
        with server.client() as raw:
            check_invariants(raw, Row)


def test_everything_works_under_a_least_privilege_acl() -> None:
    with RedisServer() as server:
        with server.client() as admin:
            pattern = "~{" + Row.spec().keys.name + "}*"
            admin.execute_command("ACL", "SETUSER", "app", "on", ">secret", pattern, "+@all", "-@dangerous")
        app = redis.Redis(unix_socket_path=str(server.socket), username="app", password="secret")
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # CONFIG is not allowed: no warning, no failure
            typedredis.connect(app)
            Row.reset(rows(200, "a"))
        Row(grp=99, rank=500, slug="one").insert()
        Row.save_all(list(rows(10, "b", grp=98)))
        assert Row.get_by(Row.f.slug, "one").grp == 99
        assert Row.query(Row.f.grp == 98).first() is not None
        assert Row.query(Row.f.grp == 3).offset(2).limit(3).pks() == [44, 64, 84]  # an unordered page
        assert Row.query(Row.f.grp == 3).order_by(Row.f.rank.desc()).limit(2).pks() == [184, 164]
        assert Row.query(Row.f.grp.in_([1, 2]), Row.f.rank >= 100).count() == 10
        assert Row.query(Row.f.grp == 98).update(text="y") == 10
        assert Row.query(Row.f.grp == 98).delete() == 10
        assert len(list(Row.objects.iter(batch=50))) == 201
        Row.reset(rows(5, "c"))
        check_invariants(server.client(), Row)


def test_a_dead_server_fails_a_call_within_its_timeout() -> None:
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        typedredis.connect(client)
        Row(grp=1, rank=1, slug="a").save()
        server.kill()
        started = time.monotonic()
        with pytest.raises(Unavailable):
            Row.objects.count()  # redis-py's default retries would back off for seconds
        with pytest.raises(Unavailable):
            Row.get(1)
        with pytest.raises(Unavailable):  # the connection failed before sending: no doubt
            Row(grp=1, rank=2, slug="b").save()
        assert time.monotonic() - started < 1.5
        server.restart()
        assert Row.objects.count() == 0  # a fresh server (no AOF): the call works again


@pytest.mark.parametrize("stop", ["kill", "shutdown"])
def test_a_reindex_interrupted_by_a_restart_resumes_from_its_checkpoint(
    aof_server: RedisServer, stop: str
) -> None:
    class Plain(Model, key=key("failreindex")):
        name: str

    Plain.save_all(Plain(name=f"n{i % 10}") for i in range(1000))
    model._registry.pop(key("failreindex"), None)

    class Plain2(Model, key=key("failreindex")):
        name: Indexed[str]

    def crash(done: int, total: int) -> None:
        if done >= 400:
            if stop == "kill":
                aof_server.kill()
            else:
                aof_server.shutdown()

    with pytest.raises(typedredis.TypedRedisError):  # Unavailable, or OutcomeUnknown for a write
        Plain2.reindex(progress=crash)
    aof_server.restart()
    with aof_server.client() as raw:
        report = Plain2.reindex()
        assert report.built == ("e:name",)
        assert report.indexed < 1000, "resumed from the checkpoint the AOF kept, not from the start"
        assert Plain2.objects.filter(name="n3").count() == 100
        check_invariants(raw, Plain2)
    model._registry.pop(key("failreindex"), None)
