"""Helpers for tests: per-session key names and the storage invariant checker."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections.abc import Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

import typedredis
from typedredis import Model, audit, session
from typedredis.codec import index_member
from typedredis.executor import AsyncExecutor, SyncExecutor
from typedredis.plan import Operation

T = TypeVar("T")
M = TypeVar("M", bound=Model)
Kind = Literal["sync", "asyncio"]

KIND: Kind = "sync"
"""Which executor the behaviour tests drive; the ``executor_kind`` fixture sets it per test."""

PREFIX = "t" + os.urandom(4).hex() + "."
"""Every test model's key starts with this, so a shared test server is cleaned by prefix only."""


def key(name: str) -> str:
    """The key name for a test model called ``name``."""
    return PREFIX + name


SHARED = bool(os.environ.get("TYPEDREDIS_TEST_URL"))
"""True when the suite runs on a server it did not start (then it never flushes anything)."""
CLUSTER = bool(os.environ.get("TYPEDREDIS_TEST_CLUSTER"))
"""True when the suite runs on a local Redis Cluster (`typedredis.testing.RedisCluster`)."""


def raw_client(url: str, **options: Any) -> redis.Redis:
    """A sync client of the test server (a `redis.cluster.RedisCluster` on a cluster, which
    answers the commands the tests use like a `redis.Redis`)."""
    if CLUSTER:
        return redis.cluster.RedisCluster.from_url(url, **options)  # type: ignore[return-value]  # same commands
    return redis.Redis.from_url(url, **options)


def owner(client: redis.Redis, model: type[Model]) -> redis.Redis:
    """A plain client of the server that holds ``model``: ``client`` itself, or on a cluster
    the node that owns the model's slot (for DEBUG SLEEP, SLOWLOG and the like)."""
    if isinstance(client, redis.cluster.RedisCluster):
        node = client.get_node_from_key(model.spec().keys.meta)
        return client.get_redis_connection(node)
    return client


def servers(client: redis.Redis) -> list[redis.Redis]:
    """A plain client of every server: ``client`` itself, or each primary of a cluster."""
    if isinstance(client, redis.cluster.RedisCluster):
        return [client.get_redis_connection(node) for node in client.get_primaries()]
    return [client]


def commandstats(client: redis.Redis) -> dict[str, dict[str, Any]]:
    """INFO commandstats, summed over every primary on a cluster."""
    if not isinstance(client, redis.cluster.RedisCluster):
        return client.info("commandstats")
    total: dict[str, dict[str, Any]] = {}
    for node in client.get_primaries():
        for name, stats in client.get_redis_connection(node).info("commandstats").items():
            total.setdefault(name, {"calls": 0})["calls"] += int(stats["calls"])
    return total


def async_client(url: str, **options: Any) -> redis.asyncio.Redis:
    """An asyncio client of the test server (a cluster one on a cluster)."""
    if CLUSTER:
        return redis.asyncio.cluster.RedisCluster.from_url(url, **options)  # type: ignore[return-value]  # same commands
    return redis.asyncio.Redis.from_url(url, **options)


def session_keys(client: redis.Redis) -> set[bytes]:
    """Every key written by this test session (a test-only SCAN of our prefix)."""
    return set(client.scan_iter(match=b"{" + glob_escape(PREFIX.encode()) + b"*", count=1000))


def clean(client: redis.Redis, *, shared: bool) -> None:
    """Remove what earlier tests left: FLUSHALL on a private server, our prefix on a shared one."""
    if not shared:
        client.flushall()
        return
    batch = list(session_keys(client))
    for i in range(0, len(batch), 500):
        client.unlink(*batch[i : i + 500])


def model_keys(client: redis.Redis, model: type[Model]) -> set[bytes]:
    """Every key of ``model`` on the server (a test-only SCAN)."""
    return set(client.scan_iter(match=glob_escape(model.spec().keys.base) + b"*", count=1000))


def glob_escape(raw: bytes) -> bytes:
    """Escape Redis glob metacharacters so that ``raw`` matches only itself."""
    out = bytearray()
    for byte in raw:
        if byte in b"*?[]\\":
            out += b"\\"
        out.append(byte)
    return bytes(out)


def check_invariants(
    client: redis.Redis, model: type[Model], expected: dict[int, Model] | None = None
) -> None:
    """Assert that the stored state of ``model`` is exactly what its objects imply.

    - every index set holds exactly the pks whose stored value has that index member;
    - the all-pks sorted set (scored by pk) equals the set of stored objects (and ``expected``);
    - every compound index holds exactly its objects' entries;
    - the registry names exactly the existing index sets;
    - no key exists that the layout does not explain.
    """
    spec = model.spec()
    ks = spec.keys
    gen = int(client.hget(ks.meta, "gen") or 0)
    all_pks = client.zrange(ks.all(gen), 0, -1, withscores=True)
    pks = {int(pk) for pk, _ in all_pks}
    assert all(float(pk) == score for pk, score in all_pks), "the all-set is scored by pk"
    if expected is not None:
        assert pks == set(expected), f"stored pks {sorted(pks)} != expected {sorted(expected)}"
    wanted_index: dict[bytes, set[int]] = {}
    wanted_sorted: dict[bytes, set[bytes]] = {ks.sorted_index(gen, f.name): set() for f in spec.sorted}
    for pk in pks:
        raw = client.hgetall(ks.object(gen, pk))
        assert raw, f"pk {pk} is in the all-set but has no hash"
        names = {name.decode() for name in raw}
        hidden = {"#" + f.name for f in spec.indexed} | {"~" + f.name for f in spec.sorted}
        assert names <= set(spec.stored) | hidden, names
        obj = model.get(pk)
        if expected is not None:
            assert obj == expected[pk], f"stored {obj!r} != expected {expected[pk]!r}"
        for field in spec.indexed:
            stored = raw.get(field.name.encode())  # (absent: a field added later, with a default)
            member = raw.get(b"#" + field.name.encode(), stored)
            assert member == index_member(getattr(obj, field.name)), (pk, field.name)
            wanted_index.setdefault(ks.index(gen, field.name, member), set()).add(pk)
        for field in spec.sorted:
            assert field.sort_key_of is not None
            sortkey = field.sort_key_of(getattr(obj, field.name))
            assert raw[b"~" + field.name.encode()] == sortkey, (pk, field.name)
            wanted_sorted[ks.sorted_index(gen, field.name)].add(sortkey + pk.to_bytes(8, "big"))
    wanted_compound: dict[bytes, set[bytes]] = {}
    for compound in spec.compounds:
        for pk in pks:
            obj = model.get(pk)
            members = b"".join(index_member(getattr(obj, f)) for f in compound.eq)
            ckey = ks.generation(gen) + b"c:" + compound.name.encode() + b":" + members
            if compound.sorted is None:
                entry = str(pk).encode()
            else:
                field = spec.by_name[compound.sorted]
                assert field.sort_key_of is not None
                entry = field.sort_key_of(getattr(obj, compound.sorted)) + pk.to_bytes(8, "big")
            wanted_compound.setdefault(ckey, set()).add(entry)
    for ckey, entries in wanted_compound.items():
        kind = client.type(ckey)
        actual_entries = set(client.zrange(ckey, 0, -1) if kind == b"zset" else client.smembers(ckey))
        assert actual_entries == entries, f"compound index {ckey!r}: {len(actual_entries)} != {len(entries)}"
    for index_key, members in wanted_index.items():
        actual = {int(pk) for pk in client.smembers(index_key)}
        assert actual == members, f"index {index_key!r}: {sorted(actual)} != {sorted(members)}"
    for zkey, members in wanted_sorted.items():
        actual_members = set(client.zrange(zkey, 0, -1))
        assert actual_members == members, f"sorted index {zkey!r}: {len(actual_members)} != {len(members)}"
        assert set(client.zrange(zkey, 0, -1, withscores=True)) <= {(m, 0.0) for m in members}
    nonempty_sorted = {zkey for zkey, members in wanted_sorted.items() if members}
    registry = set(client.zrange(ks.registry(gen), 0, -1))
    wanted_registry = set(wanted_index) | nonempty_sorted | set(wanted_compound)
    assert registry == wanted_registry, f"registry {registry} != index sets {wanted_registry}"
    explained: set[bytes] = {ks.meta, ks.all(gen), ks.registry(gen)} | wanted_registry
    explained.add(ks.generation(gen) + b"schema")  # which compound indexes are complete
    explained |= {ks.object(gen, pk) for pk in pks}
    unexplained = model_keys(client, model) - explained
    assert not unexplained, f"unexplained keys: {sorted(unexplained)[:10]}"
    assert not client.exists(ks.staging), "a staging generation was left behind"
    assert not client.exists(ks.retired), "a retired generation was left behind"
    # the shipped audit (typedredis check) agrees: it finds nothing where this finds nothing
    found = model._sync("check").run(audit.audit(spec))
    assert found.ok and found.objects == len(pks), found.problems[:5]


def python_filter(objects: dict[int, Any], field: str, value: Any) -> set[int]:
    """The pks whose ``field`` matches ``value`` by typedredis' index equality."""
    member = index_member(value)
    return {pk for pk, obj in objects.items() if index_member(getattr(obj, field)) == member}


def connect(url: str, *models: type[Model], kind: Kind | None = None, **client_options: Any) -> None:
    """Connect ``models`` (every model when none given) to ``url`` through the executor of
    ``kind`` (default: `KIND`): the sync one, or the asyncio one behind the sync face
    (`Loopback`), so that the same test exercises either. ``client_options`` go to the client."""
    if (kind or KIND) == "sync":
        typedredis.connect(raw_client(url, **client_options), *models)
    else:
        session.bind(Loopback(url, **client_options), models)


class Loopback(SyncExecutor):
    """The sync face driven by the asyncio executor and transport, on an event loop of its own
    in a background thread: the behaviour suite runs unchanged against the asyncio side. (Only
    a test harness: typedredis itself never runs an event loop inside sync code.)"""

    def __init__(self, url: str, **client_options: Any) -> None:  # nothing of the sync side is used
        async def make() -> AsyncExecutor:
            return AsyncExecutor(async_client(url, **client_options))

        self.inner = on_loop(make())
        self.client = self.inner.client  # type: ignore[assignment]  # the asyncio client, for inspection
        self.generations = self.inner.generations

    def run(self, operation: Operation[T], source: Iterable[Any] = ()) -> T:
        return on_loop(self.inner.run(operation, source))

    def close(self) -> None:
        async def close() -> None:
            await self.inner.close()
            await self.inner.client.aclose()

        on_loop(close())


_loop: tuple[int, asyncio.AbstractEventLoop] | None = None
"""The harness' event loop, and the process it runs in (a forked worker makes its own)."""
_loop_lock = threading.Lock()


def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the harness' background event loop and wait for its result."""
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid():
            if _loop is not None:
                # A forked child: it holds copies of the parent's asyncio clients, whose sockets
                # and epoll instance it shares with the parent. If the garbage collector ran
                # their finalizers on this child's loop, redis-py would close their transports,
                # removing the sockets from the shared epoll instance, and the parent's loop
                # would never see its replies again (a hang seen in CI). Frozen, never collected.
                gc.freeze()
            _loop = (os.getpid(), asyncio.new_event_loop())
            threading.Thread(target=_loop[1].run_forever, name="loopback", daemon=True).start()
        loop = _loop[1]
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result()


@contextmanager
def another_process(url: str) -> Iterator[None]:
    """Calls in this block go through a client of their own, as another process's would (and
    never through the executor that runs an operation: its progress callback runs inside it)."""
    other = raw_client(url)
    try:
        with typedredis.using(other):
            yield
    finally:
        other.close()


def release(name: str) -> None:
    """Forget the model class of key ``key(name)``: the next class definition over that key is
    a new release of the model (as a new process would define it)."""
    typedredis.model._registry.pop(key(name), None)


def records(client: redis.Redis, cls: type[Model]) -> dict[str, str]:
    """The index records of ``cls``'s current generation (lib.lua, note_indexes)."""
    ks = cls.spec().keys
    gen = int(client.hget(ks.meta, "gen") or 0)
    raw = client.hgetall(ks.generation(gen) + b"schema")
    return {k.decode(): v.decode() for k, v in raw.items()}


def changed_fields(obj: Model) -> set[str] | None:
    """The fields a save of ``obj`` writes when it writes in part: those whose encoding differs
    from what ``obj`` remembers of the stored object; None when it remembers nothing (it is
    written whole)."""
    from typedredis.codec import packer
    from typedredis.operations import encode_object
    from typedredis.rows import STORED

    known = obj.__dict__.get(STORED)
    if known is None or known[0] != obj.pk:
        return None
    spec = obj.spec()
    row = encode_object(spec, obj, packer())
    return {name for i, name in enumerate(spec.stored) if row[1 + i] != known[1][i]}


def after_saves(stored: dict[int, M], objects: list[M]) -> dict[int, M]:
    """What ``save_all(objects)`` leaves stored under each pk the objects name (computed
    before the save, which refreshes what the objects remember): an object loaded or saved
    before writes only the fields whose encoding differs from what it remembers, over what is
    ``stored``; an object without that memory, or whose pk is listed twice, is written whole
    (the last copy wins). Objects without a pk are left out."""
    from collections import Counter

    from typedredis.codec import packer
    from typedredis.operations import encode_object
    from typedredis.rows import STORED

    repeated = Counter(obj.pk for obj in objects)
    out: dict[int, M] = {}
    for obj in objects:
        if obj.pk is None:
            continue
        spec = obj.spec()
        row = encode_object(spec, obj, packer())
        changed = changed_fields(obj)
        before = stored.get(obj.pk)
        if before is None or changed is None or repeated[obj.pk] > 1:
            after = obj.model_copy()
        else:
            after = obj.model_copy(
                update={name: getattr(before, name) for name in spec.stored if name not in changed}
            )
        after.__dict__[STORED] = (obj.pk, tuple(row[1 : 1 + len(spec.stored)]))  # as obj remembers it
        out[obj.pk] = after
    return out
