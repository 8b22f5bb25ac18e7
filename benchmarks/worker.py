"""One repetition of every workload for one library, in a process of its own.

`run.py` starts this file once per (repetition, library) with the Python of the environment the
library lives in (the project venv for ``raw`` and ``typedredis``, ``benchmarks/.venv-peers`` for
the peers) and reads one JSON object from its last stdout line. It only needs the standard library,
redis-py and msgpack plus the library under test, so the same file runs in both environments.

The server has been flushed by the driver before the worker starts; the worker measures its own
memory delta, times every workload with ``time.perf_counter`` around the library calls only
(objects are built before the clock starts), and records the server's main-thread CPU time
(``INFO cpu``) for every workload so that client and server time can be told apart.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import traceback
from collections.abc import Sequence
from typing import Any, ClassVar

import redis
from harness import PingProbe, SlowLog, Timer, repeat_for, used_memory

# -- the dataset ------------------------------------------------------------------------------

CATEGORIES = [f"c{i:03d}" for i in range(100)]  # ~1 % each
STATUSES = ["new", "open", "held", "done"]  # ~25 % each
REGIONS = [f"r{i}" for i in range(10)]  # ~10 % each
TEXT_SEED = "".join(random.Random(7).choice("abcdefghijklmnopqrstuvwxyz     ") for _ in range(1400))

EQ_CATEGORY = "c007"  # equality query:              category == c007              (~1 %)
AND_STATUS, AND_REGION = "open", "r3"  # two-field AND:  status == open & region == r3 (~2.5 %)
NOT_CATEGORY = "c042"  # ... plus NOT-equals:            & category != c042
GETS = 1000
UPDATES = 1000

Row = tuple[str, str, str, float, str]
FIELDS = ("category", "status", "region", "score", "text")
INDEXED = FIELDS[:3]


def make_rows(n: int, seed: int) -> list[Row]:
    """N deterministic rows: 3 indexed strings, a float and a 200-character text."""
    rnd = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        at = rnd.randrange(1200)
        head = f"{seed}:{i:09d} "
        text = head + TEXT_SEED[at : at + 200 - len(head)]
        rows.append(
            (rnd.choice(CATEGORIES), rnd.choice(STATUSES), rnd.choice(REGIONS), rnd.random() * 1000, text)
        )
    assert all(len(r[4]) == 200 for r in rows[:10]), len(rows[0][4])
    return rows


def expected_counts(rows: Sequence[Row]) -> dict[str, int]:
    """What each query must return for ``rows`` (checked for every library)."""
    both = [r for r in rows if r[1] == AND_STATUS and r[2] == AND_REGION]
    return {
        "eq": sum(1 for r in rows if r[0] == EQ_CATEGORY),
        "and_not": sum(1 for r in both if r[0] != NOT_CATEGORY),
        "count": len(both),
    }


# -- the libraries ----------------------------------------------------------------------------


class Adapter:
    """What each library does for each workload. Only the methods' bodies are timed."""

    name = "?"
    #: workloads the library cannot do, with the reason shown in the table
    unsupported: ClassVar[dict[str, str]] = {}

    def __init__(self, path: str, client: redis.Redis) -> None:
        self.path = path
        self.client = client

    def build(self, rows: Sequence[Row]) -> list[Any]:
        raise NotImplementedError

    def insert(self, objs: list[Any]) -> list[Any]:
        """Bulk insert; returns the primary keys."""
        raise NotImplementedError

    def get(self, pk: Any) -> Any:
        raise NotImplementedError

    def eq(self) -> list[Any]:
        raise NotImplementedError

    def and_not(self) -> list[Any]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def load(self, pks: list[Any]) -> list[Any]:
        return [self.get(pk) for pk in pks]

    def update(self, obj: Any, category: str) -> None:
        raise NotImplementedError

    def reset(self, objs: list[Any]) -> None:
        raise NotImplementedError

    def total(self) -> int:
        """How many objects are stored (a sanity check after reset)."""
        raise NotImplementedError

    def version(self) -> str:
        return ""


# raw redis-py ------------------------------------------------------------------------------

RAW_QUERY = """
-- KEYS: np positive index sets, then negative ones; ARGV[1] = np, ARGV[2] = object key prefix,
-- ARGV[3] = scratch key, ARGV[4..] = field names. Returns pk, values, pk, values, ...
local np = tonumber(ARGV[1])
local pks
if np == #KEYS then
  pks = redis.call('SINTER', unpack(KEYS))
else
  redis.call('SINTERSTORE', ARGV[3], unpack(KEYS, 1, np))
  pks = redis.call('SDIFF', ARGV[3], unpack(KEYS, np + 1))
  redis.call('DEL', ARGV[3])
end
local fields = {unpack(ARGV, 4)}
local out = {}
for _, pk in ipairs(pks) do
  out[#out + 1] = pk
  local values = redis.call('HMGET', ARGV[2] .. pk, unpack(fields))
  for i = 1, #fields do out[#out + 1] = values[i] end
end
return out
"""


RAW_INSERT = """
-- KEYS: none. ARGV[1] = key prefix, ARGV[2] = nf, ARGV[3..2+nf] = field names (the 3 indexed
-- ones first), then per object its pk and nf msgpack values. One HSET per object; the index
-- members gathered per set and added with one SADD per set, the pks with one SADD.
local p, nf = ARGV[1], tonumber(ARGV[2])
local names, groups, all, hset = {}, {}, {}, {}
for i = 1, nf do names[i] = ARGV[2 + i] end
for at = 3 + nf, #ARGV, 1 + nf do
  local pk = ARGV[at]
  for i = 1, nf do
    hset[2 * i - 1] = names[i]
    hset[2 * i] = ARGV[at + i]
  end
  redis.call('HSET', p .. 'o:' .. pk, unpack(hset))
  for i = 1, 3 do
    local key = p .. 'i:' .. names[i] .. ':' .. ARGV[at + i]
    local group = groups[key]
    if not group then group = {}; groups[key] = group end
    group[#group + 1] = pk
  end
  all[#all + 1] = pk
end
for key, group in pairs(groups) do redis.call('SADD', key, unpack(group)) end
redis.call('SADD', p .. 'all', unpack(all))
return #all
"""


RAW_INSERT_SHA = hashlib.sha1(RAW_INSERT.encode()).hexdigest()
NAMES = [f.encode() for f in FIELDS]


def lua_write(client: redis.Redis, prefix: bytes, pks: Sequence[int], values: Sequence[list[bytes]]) -> None:
    """The raw limit for writes: RAW_INSERT (loaded) per 250 objects, 32 calls per round trip;
    ``values``: each object's packed FIELDS, the 3 indexed ones first."""
    head = [prefix, len(NAMES), *NAMES]
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(pks), 250):
        args: list[Any] = list(head)
        for pk, row in zip(pks[start : start + 250], values[start : start + 250], strict=True):
            args.append(pk)
            args += row
        pipe.evalsha(RAW_INSERT_SHA, 0, *args)
        if len(pipe) == 32:
            pipe.execute()
    pipe.execute()


def pipeline_write(
    client: redis.Redis, prefix: bytes, pks: Sequence[int], values: Sequence[list[bytes]]
) -> None:
    """Plain pipelining, no Lua: per 1 000 objects one round trip of one HSET per object, one
    SADD per touched index set and one SADD to the all-set (not atomic)."""
    index_prefixes = [prefix + b"i:" + f + b":" for f in NAMES[:3]]
    pipe = client.pipeline(transaction=False)
    for start in range(0, len(pks), 1000):
        chunk = pks[start : start + 1000]
        groups: dict[bytes, list[int]] = {}
        for pk, row in zip(chunk, values[start : start + 1000], strict=True):
            pipe.hset(prefix + b"o:%d" % pk, items=[x for pair in zip(NAMES, row, strict=True) for x in pair])
            for i in range(3):
                groups.setdefault(index_prefixes[i] + row[i], []).append(pk)
        for key, members in groups.items():
            pipe.sadd(key, *members)
        pipe.sadd(prefix + b"all", *chunk)
        pipe.execute()


def raw_item_model() -> Any:
    """The plain pydantic model the raw sides validate into: the benchmark model's fields
    (imported here: the peers' environment runs this file without pydantic)."""
    from pydantic import BaseModel

    class RawItem(BaseModel):
        pk: int | None = None
        category: str
        status: str
        region: str
        score: float
        text: str

    return RawItem


class Raw(Adapter):
    """redis-py issuing the minimal commands, msgpack values, decoded to plain dicts.

    Layout: ``{raw}:<g>:o:<pk>`` hash of msgpack values, ``{raw}:<g>:i:<field>:<msgpack value>``
    index sets, ``{raw}:<g>:all``; ``{raw}:gen`` names the current generation g (the client keeps it).
    """

    name = "raw"
    BATCH = 1000  # objects per pipeline execute

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        import msgpack

        self.pack = msgpack.packb
        self.unpack = msgpack.unpackb
        self.gen = 1
        self.fields = [f.encode() for f in FIELDS]
        self.script = client.register_script(RAW_QUERY)
        self.insert_script = client.register_script(RAW_INSERT)
        self.pydantic: Any = None

    def version(self) -> str:
        return redis.__version__

    def prefix(self, gen: int) -> bytes:
        return b"{raw}:%d:" % gen

    def build(self, rows: Sequence[Row]) -> list[Any]:
        return [dict(zip(FIELDS, r, strict=True)) for r in rows]

    def _write(self, objs: list[dict[str, Any]], gen: int) -> list[int]:
        """The raw limit for writes (see `lua_write`)."""
        pack = self.pack
        top = self.client.incrby(b"{raw}:pk", len(objs))
        pks = list(range(top - len(objs) + 1, top + 1))
        self.client.script_load(RAW_INSERT)
        lua_write(self.client, self.prefix(gen), pks, [[pack(obj[f]) for f in FIELDS] for obj in objs])
        return pks

    def write_pipelined(self, objs: list[dict[str, Any]], gen: int) -> list[int]:
        """Plain pipelining, no Lua (see `pipeline_write`)."""
        pack = self.pack
        top = self.client.incrby(b"{raw}:pk", len(objs))
        pks = list(range(top - len(objs) + 1, top + 1))
        pipeline_write(self.client, self.prefix(gen), pks, [[pack(obj[f]) for f in FIELDS] for obj in objs])
        return pks

    def write_plain_hashes(self, objs: list[dict[str, Any]], gen: int) -> None:
        """Only the hashes (no index sets): the memory baseline of the memory target."""
        pack = self.pack
        p = self.prefix(gen)
        fields = self.fields
        pipe = self.client.pipeline(transaction=False)
        for pk, obj in enumerate(objs, 1):
            values = [pack(obj[f]) for f in FIELDS]
            pipe.hset(p + b"o:%d" % pk, items=[x for pair in zip(fields, values, strict=True) for x in pair])
            if len(pipe) == 1000:
                pipe.execute()
        pipe.execute()

    def drop(self, gen: int, pks: Sequence[int]) -> None:
        """Delete generation ``gen`` (objects ``pks`` and every possible index set)."""
        p = self.prefix(gen)
        keys = [p + b"o:%d" % pk for pk in pks]
        keys += [p + self._ix(f, v) for f, values in self._domains() for v in values]
        keys.append(p + b"all")
        pipe = self.client.pipeline(transaction=False)
        for start in range(0, len(keys), 1000):
            pipe.unlink(*keys[start : start + 1000])
            if len(pipe) == 10:
                pipe.execute()
        pipe.execute()

    def insert(self, objs: list[Any]) -> list[Any]:
        self.pks = self._write(objs, self.gen)
        return self.pks

    def _decode(self, values: Sequence[bytes]) -> dict[str, Any]:
        unpack = self.unpack
        return {f: unpack(v) for f, v in zip(FIELDS, values, strict=True)}

    def get(self, pk: Any) -> Any:
        return self._decode(self.client.hmget(self.prefix(self.gen) + b"o:%d" % pk, self.fields))

    def _query(self, positive: list[bytes], negative: list[bytes]) -> list[Any]:
        p = self.prefix(self.gen)
        reply = self.script(
            keys=[p + k for k in positive + negative],
            args=[len(positive), p + b"o:", b"{raw}:tmp", *self.fields],
        )
        stride = 1 + len(FIELDS)
        decode = self._decode
        return [decode(reply[i + 1 : i + stride]) for i in range(0, len(reply), stride)]

    def _ix(self, field: str, value: str) -> bytes:
        return b"i:" + field.encode() + b":" + self.pack(value)

    def eq(self) -> list[Any]:
        return self._query([self._ix("category", EQ_CATEGORY)], [])

    def and_not(self) -> list[Any]:
        return self._query(
            [self._ix("status", AND_STATUS), self._ix("region", AND_REGION)],
            [self._ix("category", NOT_CATEGORY)],
        )

    def count(self) -> int:
        p = self.prefix(self.gen)
        keys = [p + self._ix("status", AND_STATUS), p + self._ix("region", AND_REGION)]
        return int(self.client.execute_command("SINTERCARD", 2, *keys))

    def load(self, pks: list[Any]) -> list[Any]:
        out = []
        for pk in pks:
            obj = self.get(pk)
            obj["pk"] = pk
            out.append(obj)
        return out

    def update(self, obj: Any, category: str) -> None:
        # one round trip: the new value, and the index move from the value the client knows
        p = self.prefix(self.gen)
        pk = obj["pk"]
        new = self.pack(category)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(p + b"o:%d" % pk, b"category", new)
        pipe.srem(p + self._ix("category", obj["category"]), pk)
        pipe.sadd(p + b"i:category:" + new, pk)
        pipe.execute()
        obj["category"] = category

    def reset(self, objs: list[Any]) -> None:
        # stage the new generation, switch the pointer, then UNLINK the old keys in batches
        old, old_pks = self.gen, self.pks
        self.pks = self._write(objs, old + 1)
        self.client.set(b"{raw}:gen", old + 1)
        self.gen = old + 1
        self.drop(old, old_pks)

    @staticmethod
    def _domains() -> list[tuple[str, list[str]]]:
        return [("category", CATEGORIES), ("status", STATUSES), ("region", REGIONS)]

    def total(self) -> int:
        return int(self.client.scard(self.prefix(self.gen) + b"all"))

    # raw + pydantic: the same replies, validated into a plain pydantic model by hand
    def with_pydantic(self) -> Raw:
        twin = Raw(self.path, self.client)
        twin.name = "raw+pydantic"
        twin.gen, twin.pks = self.gen, self.pks
        validate = raw_item_model().model_validate
        plain = twin._decode
        twin._decode = lambda values: validate(plain(values))  # type: ignore[method-assign]
        return twin


# typedredis --------------------------------------------------------------------------------


class TypedRedis(Adapter):
    name = "typedredis"

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        import typedredis
        from typedredis import Indexed, Model

        class Item(Model, key="bench"):
            category: Indexed[str]
            status: Indexed[str]
            region: Indexed[str]
            score: float
            text: str

        self.Item = Item
        typedredis.connect(redis.Redis(unix_socket_path=path))

    def version(self) -> str:
        from importlib.metadata import version

        return version("typedredis")

    def build(self, rows: Sequence[Row]) -> list[Any]:
        Item = self.Item
        return [Item(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]

    def insert(self, objs: list[Any]) -> list[Any]:
        self.Item.save_all(objs)
        return [o.pk for o in objs]

    def get(self, pk: Any) -> Any:
        return self.Item.get(pk)

    def eq(self) -> list[Any]:
        f = self.Item.f
        return self.Item.query(f.category == EQ_CATEGORY).all()

    def and_not(self) -> list[Any]:
        f = self.Item.f
        return self.Item.query(
            f.status == AND_STATUS, f.region == AND_REGION, f.category != NOT_CATEGORY
        ).all()

    def count(self) -> int:
        f = self.Item.f
        return self.Item.query(f.status == AND_STATUS, f.region == AND_REGION).count()

    def update(self, obj: Any, category: str) -> None:
        obj.category = category
        obj.save()

    def reset(self, objs: list[Any]) -> None:
        self.Item.reset(objs)

    def total(self) -> int:
        return self.Item.objects.count()


# walrus ------------------------------------------------------------------------------------


class Walrus(Adapter):
    name = "walrus"

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        from walrus import AutoIncrementField, Database, FloatField, Model, TextField
        from walrus.query import Executor

        db = Database(unix_socket_path=path)

        class Item(Model):
            __database__ = db
            __namespace__ = "bench"
            id = AutoIncrementField()
            category = TextField(index=True)
            status = TextField(index=True)
            region = TextField(index=True)
            score = FloatField()
            text = TextField()

        self.Item, self.db, self.Executor = Item, db, Executor
        self.unsupported = {"reset": "no reset"}

    def version(self) -> str:
        from importlib.metadata import version

        return version("walrus")

    def build(self, rows: Sequence[Row]) -> list[Any]:
        Item = self.Item
        return [Item(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]

    def insert(self, objs: list[Any]) -> list[Any]:
        for obj in objs:  # walrus has no bulk save
            obj.save()
        return [o.id for o in objs]

    def get(self, pk: Any) -> Any:
        return self.Item.load(pk)

    def eq(self) -> list[Any]:
        return list(self.Item.query(self.Item.category == EQ_CATEGORY))

    def _and(self) -> Any:
        I = self.Item  # noqa: E741
        return (I.status == AND_STATUS) & (I.region == AND_REGION)

    def and_not(self) -> list[Any]:
        return list(self.Item.query(self._and() & (self.Item.category != NOT_CATEGORY)))

    def count(self) -> int:
        # walrus has no query count; its Executor builds the result set, len() is its SCARD
        return len(self.Executor(self.db).execute(self._and()))

    def update(self, obj: Any, category: str) -> None:
        obj.category = category
        obj.save()

    def total(self) -> int:
        return self.Item.count()


# rom ---------------------------------------------------------------------------------------


class Rom(Adapter):
    name = "rom"

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        import rom
        import rom.util

        rom.util.set_connection_settings(unix_socket_path=path)

        class Item(rom.Model):
            category = rom.Text(index=True, keygen=rom.IDENTITY)
            status = rom.Text(index=True, keygen=rom.IDENTITY)
            region = rom.Text(index=True, keygen=rom.IDENTITY)
            score = rom.Float()
            text = rom.Text()

        self.Item, self.rom = Item, rom
        self.unsupported = {"reset": "no reset"}

    def version(self) -> str:
        from importlib.metadata import version

        return version("rom")

    def build(self, rows: Sequence[Row]) -> list[Any]:
        Item = self.Item
        objs = [
            Item(category=c, status=s, region=r, score=x, text=t, _loading=False) for c, s, r, x, t in rows
        ]
        self.rom.session.rollback()  # build only: do not let the session track them
        return objs

    def insert(self, objs: list[Any]) -> list[Any]:
        self.rom.session.save(objs)  # rom's bulk API: one Lua call per entity
        self.rom.session.rollback()
        return [o.id for o in objs]

    def get(self, pk: Any) -> Any:
        obj = self.Item.get(pk)
        self.rom.session.rollback()
        return obj

    def eq(self) -> list[Any]:
        out = self.Item.query.filter(category=EQ_CATEGORY).all()
        self.rom.session.rollback()
        return out

    def and_not(self) -> list[Any]:
        # rom has no NOT-equals: the AND runs on the server, the NOT on the client
        rows = self.Item.query.filter(status=AND_STATUS, region=AND_REGION).all()
        self.rom.session.rollback()
        return [r for r in rows if r.category != NOT_CATEGORY]

    def count(self) -> int:
        return int(self.Item.query.filter(status=AND_STATUS, region=AND_REGION).count())

    def load(self, pks: list[Any]) -> list[Any]:
        return [self.Item.get(pk) for pk in pks]

    def update(self, obj: Any, category: str) -> None:
        obj.category = category
        obj.save()

    def total(self) -> int:
        return int(self.Item.query.count())


# IndexedRedis ------------------------------------------------------------------------------


class IndexedRedisAdapter(Adapter):
    name = "IndexedRedis"

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        import IndexedRedis
        from IndexedRedis.fields import IRField

        pool = redis.ConnectionPool(connection_class=redis.UnixDomainSocketConnection, path=path)

        class Item(IndexedRedis.IndexedRedisModel):
            FIELDS = [  # noqa: RUF012
                IRField("category"),
                IRField("status"),
                IRField("region"),
                IRField("score", valueType=float),
                IRField("text"),
            ]
            INDEXED_FIELDS = ["category", "status", "region"]  # noqa: RUF012
            KEY_NAME = "bench"
            REDIS_CONNECTION_PARAMS = {"connection_pool": pool}  # noqa: RUF012

        self.Item = Item

    def version(self) -> str:
        from importlib.metadata import version

        return version("IndexedRedis")

    def build(self, rows: Sequence[Row]) -> list[Any]:
        Item = self.Item
        return [Item(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]

    def insert(self, objs: list[Any]) -> list[Any]:
        return list(self.Item.saver.save(objs))  # one MULTI pipeline (plus one INCR per object)

    def get(self, pk: Any) -> Any:
        return self.Item.objects.get(pk)

    def eq(self) -> list[Any]:
        return list(self.Item.objects.filter(category=EQ_CATEGORY).all())

    def and_not(self) -> list[Any]:
        q = self.Item.objects.filter(status=AND_STATUS, region=AND_REGION, category__ne=NOT_CATEGORY)
        return list(q.all())

    def count(self) -> int:
        return int(self.Item.objects.filter(status=AND_STATUS, region=AND_REGION).count())

    def update(self, obj: Any, category: str) -> None:
        obj.category = category
        obj.save()

    def reset(self, objs: list[Any]) -> None:
        self.Item.reset(objs)

    def total(self) -> int:
        return int(self.Item.objects.count())


# redis-om ----------------------------------------------------------------------------------


class RedisOM(Adapter):
    name = "redis-om"

    def __init__(self, path: str, client: redis.Redis) -> None:
        super().__init__(path, client)
        os.environ.setdefault("REDIS_OM_URL", f"unix://{path}")
        from redis_om import Field, HashModel, get_redis_connection

        conn = get_redis_connection(url=f"unix://{path}")

        class Item(HashModel, index=True):  # redis-om 1.x refuses to build keys otherwise
            category: str = Field(index=True)
            status: str = Field(index=True)
            region: str = Field(index=True)
            score: float
            text: str

            class Meta:
                database = conn
                global_key_prefix = "bench"

        self.Item = Item
        reason = "needs RediSearch"
        try:  # show what a user gets on plain Redis
            Item.find(Item.category == EQ_CATEGORY).all()
        except Exception as exc:
            reason = f"needs RediSearch (find() raises {type(exc).__name__}: {str(exc)[:50]})"
        self.unsupported = {"eq": reason, "and_not": reason, "count": reason, "reset": "no reset"}

    def version(self) -> str:
        from importlib.metadata import version

        return version("redis-om")

    def build(self, rows: Sequence[Row]) -> list[Any]:
        Item = self.Item
        return [Item(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]

    def insert(self, objs: list[Any]) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(objs), 1000):  # Model.add: one pipeline per call
            self.Item.add(objs[start : start + 1000])
        out += [o.pk for o in objs]
        return out

    def get(self, pk: Any) -> Any:
        return self.Item.get(pk)

    def update(self, obj: Any, category: str) -> None:
        obj.category = category
        obj.save()

    def total(self) -> int:
        return 0


ADAPTERS: dict[str, type[Adapter]] = {
    "raw": Raw,
    "typedredis": TypedRedis,
    "walrus": Walrus,
    "rom": Rom,
    "IndexedRedis": IndexedRedisAdapter,
    "redis-om": RedisOM,
}

# -- one repetition ---------------------------------------------------------------------------


def run(lib: str, path: str, n: int, seed: int, query_budget: float, skip: set[str]) -> dict[str, Any]:
    client = redis.Redis(unix_socket_path=path)
    results: dict[str, Any] = {}
    adapter = ADAPTERS[lib](path, client)
    results["version"] = adapter.version()
    unsupported = dict(adapter.unsupported)
    rows = make_rows(n, seed)
    expect = expected_counts(rows)
    objs = adapter.build(rows)
    rnd = random.Random(seed + 1000)

    base = used_memory(client)
    with Timer(client) as t:
        pks = adapter.insert(objs)
    results["insert"] = t.result(1)
    results["memory"] = {"bytes_per_object": (used_memory(client) - base) / n}
    assert len(pks) == n and len(set(pks)) == n, "insert did not assign distinct pks"
    if isinstance(adapter, Raw):
        # the plain-pipeline variant of the insert, and the plain-hash memory baseline
        base = used_memory(client)
        with Timer(client) as t:
            extra = adapter.write_pipelined(objs, 90)
        results["pipe:insert"] = t.result(1)
        adapter.drop(90, extra)
        base = used_memory(client)
        adapter.write_plain_hashes(objs, 91)
        results["hash:memory"] = {"bytes_per_object": (used_memory(client) - base) / n}
        adapter.drop(91, range(1, n + 1))
        used_memory(client)

    sample = rnd.sample(range(n), min(GETS, n))
    get_pks = [pks[i] for i in sample]
    adapter.get(get_pks[0])
    with Timer(client) as t:
        for pk in get_pks:
            adapter.get(pk)
    results["get"] = t.result(1)
    variants: list[Adapter] = [adapter]
    if isinstance(adapter, Raw):
        twin = adapter.with_pydantic()
        with Timer(client) as t:
            for pk in get_pks:
                twin.get(pk)
        results["pyd:get"] = t.result(1)
        variants.append(twin)

    for workload, at_most in (("eq", 200), ("and_not", 200), ("count", 2000)):
        if workload in unsupported or workload in skip:
            unsupported.setdefault(workload, "skipped")
            continue
        for variant in variants:
            if variant is not adapter and workload == "count":
                continue
            fn = getattr(variant, workload)
            got = fn()
            size = got if isinstance(got, int) else len(got)
            assert size == expect[workload], f"{lib} {workload}: {size} objects, expected {expect[workload]}"
            key = workload if variant is adapter else "pyd:" + workload
            results[key] = repeat_for(fn, client, query_budget, at_most)
            results[key]["rows"] = size

    upd = rnd.sample(range(n), min(UPDATES, n))
    loaded = adapter.load([pks[i] for i in upd])
    new_categories = [CATEGORIES[(CATEGORIES.index(rows[i][0]) + 1) % len(CATEGORIES)] for i in upd]
    with Timer(client) as t:
        for obj, category in zip(loaded, new_categories, strict=True):
            adapter.update(obj, category)
    results["update"] = t.result(1)
    del loaded

    if "reset" in unsupported or "reset" in skip:
        unsupported.setdefault("reset", "skipped")
    else:
        new_objs = adapter.build(make_rows(n, seed + 1))
        with SlowLog(client) as slow, PingProbe(path) as probe, Timer(client) as t:
            adapter.reset(new_objs)
        results["reset"] = t.result(
            1,
            ping_stall=probe.worst,
            pings=probe.pings,
            longest_command=slow.longest,
            longest_command_name=slow.longest_command,
        )
        total = adapter.total()
        assert total == n, f"{lib}: {total} objects after reset, expected {n}"
    results["unsupported"] = unsupported
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lib", required=True, choices=sorted(ADAPTERS))
    parser.add_argument("--socket", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--query-budget", type=float, default=1.0, help="seconds per query workload")
    parser.add_argument("--skip", default="", help="comma-separated workloads to skip")
    parser.add_argument("--profile", help="write a cProfile of the whole run to this file")
    args = parser.parse_args(argv)
    skip = {s for s in args.skip.split(",") if s}
    try:
        if args.profile:
            import cProfile

            prof = cProfile.Profile()
            result = prof.runcall(run, args.lib, args.socket, args.n, args.seed, args.query_budget, skip)
            prof.dump_stats(args.profile)
        else:
            result = run(args.lib, args.socket, args.n, args.seed, args.query_budget, skip)
    except Exception as exc:
        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
