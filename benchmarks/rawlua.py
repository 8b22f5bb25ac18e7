"""typedredis against the raw-Lua limit (issue 14), on the harness (harness.py).

    python benchmarks/rawlua.py --n 100000 --rounds 11 --markdown benchmarks/rawlua-results.md
    python benchmarks/rawlua.py --n 100000 --rounds 3 --sweep --markdown benchmarks/batch-results.md

One private redis-server; the model of the peers' benchmark (worker.py: three equality-indexed
strings, a float, a 200-character text). Each workload has a few sides, run once per round in an
order that rotates between rounds; the ratios are medians of per-round ratios to the baseline.

- **raw-Lua**, the baseline: redis-py and one ``EVALSHA`` per operation (per 250 objects for the
  insert, 32 calls per round trip, index members added in groups), objects validated into a plain
  pydantic model inside the clock, as typedredis does. It keeps no index records, hidden members,
  unique checks or memory check, so it is a limit, not a rival.
- **raw-pipeline**: the same without Lua (pipelined commands; not atomic).
- **typedredis**: the public API.

The queries and the updates of the raw sides run on the keys typedredis wrote (the same sets,
the same hashes), so both read the same data; the count's baseline is a bare ``SINTERCARD`` of
those sets, next to the same command sent from a one-line script (what any Lua costs).
``--only count,update`` runs some of the workloads. ``--sweep`` instead times typedredis' bulk
insert and reset at several numbers of objects per script call, with every script call logged
(SLOWLOG) for the 99th percentile of their durations: how the batch size was chosen.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import msgpack
import redis
from harness import Bench, Side, interleave, private_server, table
from pydantic import TypeAdapter
from worker import (
    AND_REGION,
    AND_STATUS,
    CATEGORIES,
    EQ_CATEGORY,
    FIELDS,
    NAMES,
    NOT_CATEGORY,
    RAW_INSERT,
    RAW_QUERY,
    Row,
    expected_counts,
    lua_write,
    make_rows,
    pipeline_write,
    raw_item_model,
)

import typedredis
from typedredis import Indexed, Model, operations
from typedredis.rows import STORED

UPDATES = 1000
GETS = 1000


class Item(Model, key="bench_rawlua"):
    category: Indexed[str]
    status: Indexed[str]
    region: Indexed[str]
    score: float
    text: str


RawItem = raw_item_model()  # what the raw sides validate into: the same fields, plain pydantic


RAW_ITEMS = TypeAdapter(list[RawItem])


RAW_UPDATE = """
-- KEYS[1] = the object's hash, KEYS[2] = index key prefix of the field; ARGV[1] = pk,
-- ARGV[2] = field, ARGV[3] = new msgpack value (= its index member, a string).
local old = redis.call('HGET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if old then redis.call('SREM', KEYS[2] .. old, ARGV[1]) end
redis.call('SADD', KEYS[2] .. ARGV[3], ARGV[1])
return 1
"""

pack = msgpack.packb
unpack = msgpack.unpackb


def raw_items(rows: Sequence[Row]) -> list[RawItem]:
    return [RawItem(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]


def typed_items(rows: Sequence[Row]) -> list[Item]:
    return [Item(category=c, status=s, region=r, score=x, text=t) for c, s, r, x, t in rows]


def packed(obj: RawItem) -> list[bytes]:
    return [pack(obj.category), pack(obj.status), pack(obj.region), pack(obj.score), pack(obj.text)]


class Raw:
    """The raw sides: their own layout for the insert, typedredis' keys for everything else."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.query_script = client.register_script(RAW_QUERY)
        self.update_script = client.register_script(RAW_UPDATE)
        self.count_script = client.register_script("return redis.call('SINTERCARD', 2, KEYS[1], KEYS[2])")
        client.script_load(RAW_INSERT)  # the insert pipelines EVALSHA (FLUSHALL keeps scripts)
        self.prefix = b"{raw}:"

    # -- insert (own layout: {raw}:o:<pk>, {raw}:i:<field>:<member>, {raw}:all) --
    def _pks(self, objs: list[RawItem]) -> list[int]:
        top = int(self.client.incrby(b"{raw}:pk", len(objs)))
        pks = list(range(top - len(objs) + 1, top + 1))
        for obj, pk in zip(objs, pks, strict=True):
            obj.pk = pk
        return pks

    def insert_lua(self, rows: Sequence[Row]) -> None:
        objs = raw_items(rows)
        lua_write(self.client, self.prefix, self._pks(objs), [packed(obj) for obj in objs])

    def insert_pipeline(self, rows: Sequence[Row]) -> None:
        objs = raw_items(rows)
        pipeline_write(self.client, self.prefix, self._pks(objs), [packed(obj) for obj in objs])

    # -- reads and updates on typedredis' keys --
    def on_typedredis(self) -> None:
        gen = int(self.client.hget(Item.spec().keys.meta, "gen") or 0)
        self.gp = Item.spec().keys.generation(gen)

    def ix(self, field: str, value: str) -> bytes:
        return self.gp + b"i:" + field.encode() + b":" + pack(value)

    def _flat(self, positive: list[bytes], negative: list[bytes]) -> list[Any]:
        reply: list[Any] = self.query_script(
            keys=positive + negative, args=[len(positive), self.gp + b"o:", b"{bench_rawlua}:rawtmp", *NAMES]
        )
        return reply

    def rows_per_object(self, reply: list[Any]) -> list[RawItem]:
        """Decode, then one pydantic validation per object."""
        validate = RawItem.model_validate
        out = []
        for at in range(0, len(reply), 6):
            data = dict(zip(FIELDS, map(unpack, reply[at + 1 : at + 6]), strict=True))
            data["pk"] = int(reply[at])
            out.append(validate(data))
        return out

    def rows_one_call(self, reply: list[Any]) -> list[RawItem]:
        """Decode, then one validation call over the whole list."""
        dicts = []
        for at in range(0, len(reply), 6):
            data = dict(zip(FIELDS, map(unpack, reply[at + 1 : at + 6]), strict=True))
            data["pk"] = int(reply[at])
            dicts.append(data)
        return RAW_ITEMS.validate_python(dicts)

    def eq_keys(self) -> tuple[list[bytes], list[bytes]]:
        return [self.ix("category", EQ_CATEGORY)], []

    def and_not_keys(self) -> tuple[list[bytes], list[bytes]]:
        return [self.ix("status", AND_STATUS), self.ix("region", AND_REGION)], [
            self.ix("category", NOT_CATEGORY)
        ]

    def query_pipeline(self, positive: list[bytes], negative: list[bytes]) -> list[RawItem]:
        """Two round trips: the pks (SINTER or SDIFF of a client-side intersection), then HMGETs."""
        if negative:
            pks = set(self.client.sinter(positive)) - set(self.client.sunion(negative))
        else:
            pks = set(self.client.sinter(positive))
        pipe = self.client.pipeline(transaction=False)
        order = list(pks)
        for pk in order:
            pipe.hmget(self.gp + b"o:" + pk, NAMES)
        validate = RawItem.model_validate
        out = []
        for pk, values in zip(order, pipe.execute(), strict=True):
            data = dict(zip(FIELDS, map(unpack, values), strict=True))
            data["pk"] = int(pk)
            out.append(validate(data))
        return out

    def get(self, pk: int) -> RawItem:
        values = self.client.hmget(self.gp + b"o:%d" % pk, NAMES)
        data = dict(zip(FIELDS, map(unpack, values), strict=True))
        data["pk"] = pk
        return RawItem.model_validate(data)

    def update_lua(self, pk: int, category: str) -> None:
        self.update_script(
            keys=[self.gp + b"o:%d" % pk, self.gp + b"i:category:"], args=[pk, b"category", pack(category)]
        )

    def update_pipeline(self, obj: RawItem, category: str) -> None:
        """One round trip, not atomic: the client's old value is trusted."""
        assert obj.pk is not None
        new = pack(category)
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.gp + b"o:%d" % obj.pk, b"category", new)
        pipe.srem(self.ix("category", obj.category), obj.pk)
        pipe.sadd(self.gp + b"i:category:" + new, obj.pk)
        pipe.execute()
        obj.category = category


def repeated(fn: Callable[[], Any], times: int, check: Callable[[Any], None]) -> Callable[[], int]:
    def call() -> int:
        for _ in range(times):
            got = fn()
        check(got)
        return times

    return call


def main_benches(client: redis.Redis, raw: Raw, n: int, rnd: random.Random) -> list[Bench]:
    rows = make_rows(n, 1)
    expect = expected_counts(rows)
    raw.on_typedredis()

    def size(expected: int) -> Callable[[Any], None]:
        def check(got: Any) -> None:
            got_n = got if isinstance(got, int) else len(got)
            assert got_n == expected, f"{got_n} results, expected {expected}"

        return check

    def flush() -> None:
        client.flushall(asynchronous=False)

    changed: dict[int, str] = {}  # pk -> its dataset category, for the objects an update changed

    def back_to_dataset() -> None:  # the reads need typedredis' dataset back after the inserts
        if not client.exists(Item.spec().keys.meta):
            changed.clear()
            Item.save_all(typed_items(rows))
            raw.on_typedredis()
        elif changed:  # and after the updates (without the insert: `--only and_not,update`)
            restored = [o for o in Item.get_many(changed) if o]
            for obj in restored:
                assert obj.pk is not None
                obj.category = changed[obj.pk]
            Item.save_all(restored)
            changed.clear()

    f = Item.f

    def eq() -> list[Item]:
        return Item.query(f.category == EQ_CATEGORY).all()

    def and_not() -> list[Item]:
        return Item.query(f.status == AND_STATUS, f.region == AND_REGION, f.category != NOT_CATEGORY).all()

    def count() -> int:
        return Item.query(f.status == AND_STATUS, f.region == AND_REGION).count()

    def raw_query(
        keys: Callable[[], tuple[list[bytes], list[bytes]]], decode: Callable[[list[Any]], list[RawItem]]
    ) -> Callable[[], list[RawItem]]:
        return lambda: decode(raw._flat(*keys()))

    def sintercard() -> int:
        return int(
            client.execute_command(
                "SINTERCARD", 2, raw.ix("status", AND_STATUS), raw.ix("region", AND_REGION)
            )
        )

    def sintercard_lua() -> int:  # the same command from the smallest script: what Lua costs
        return int(raw.count_script(keys=[raw.ix("status", AND_STATUS), raw.ix("region", AND_REGION)]))

    # the updates: each side changes 1 000 objects of its own quarter of the pks, one call each
    thirds: dict[str, list[int]] = {}
    state: dict[str, Any] = {}

    def pick(side: str) -> list[int]:
        back_to_dataset()
        if not thirds:
            pks = Item.objects.pks()
            for i, name in enumerate(
                ("raw-Lua", "raw-pipeline", "typedredis (partial save)", "typedredis (whole save)")
            ):
                thirds[name] = pks[i::4]
        sample = rnd.sample(thirds[side], min(UPDATES, len(thirds[side])))
        for obj in Item.get_many(sample):
            if obj and obj.pk is not None:
                changed[obj.pk] = obj.category
        state["new"] = [rnd.choice(CATEGORIES) for _ in sample]
        return sample

    def prepare_typed(whole: bool) -> Callable[[], None]:
        def prepare() -> None:
            loaded = [
                o
                for o in Item.get_many(
                    pick("typedredis (whole save)" if whole else "typedredis (partial save)")
                )
                if o
            ]
            if whole:
                for obj in loaded:
                    del obj.__dict__[STORED]  # as if built in memory: the save writes every field
            state["typed"] = loaded

        return prepare

    def update_typed() -> int:
        for obj, category in zip(state["typed"], state["new"], strict=True):
            obj.category = category
            obj.save()
        return len(state["typed"])

    def prepare_raw_lua() -> None:
        state["pks"] = pick("raw-Lua")

    def update_raw_lua() -> int:
        for pk, category in zip(state["pks"], state["new"], strict=True):
            raw.update_lua(pk, category)
        return len(state["pks"])

    def prepare_raw_pipeline() -> None:
        state["raw"] = [raw.get(pk) for pk in pick("raw-pipeline")]

    def update_raw_pipeline() -> int:
        for obj, category in zip(state["raw"], state["new"], strict=True):
            raw.update_pipeline(obj, category)
        return len(state["raw"])

    def prepare_gets() -> None:
        back_to_dataset()
        state["gets"] = rnd.sample(Item.objects.pks(), GETS)

    def gets(fn: Callable[[int], Any]) -> Callable[[], int]:
        def call() -> int:
            for pk in state["gets"]:
                fn(pk)
            return len(state["gets"])

        return call

    reps = max(1, 2_000_000 // max(n, 1))  # ~20 queries of ~1 000 rows at N = 100 000

    def query_bench(
        key: str,
        label: str,
        keys: Callable[[], tuple[list[bytes], list[bytes]]],
        typed: Callable[[], Any],
        rows: int,
    ) -> Bench:
        def side(name: str, fn: Callable[[], Any]) -> Side:
            return Side(name, repeated(fn, reps, size(rows)), back_to_dataset)

        return Bench(
            key,
            f"{label}, full objects ({rows:,} rows)",
            (
                side("raw-Lua", raw_query(keys, raw.rows_one_call)),
                side("raw-Lua, one validation per row", raw_query(keys, raw.rows_per_object)),
                side("raw-pipeline", lambda: raw.query_pipeline(*keys())),
                side("typedredis", typed),
            ),
            base="raw-Lua",
        )

    return [
        Bench(
            "insert",
            f"bulk insert of {n:,} objects, built and validated inside the clock",
            (
                Side("raw-Lua", lambda: raw.insert_lua(rows), flush),
                Side("raw-pipeline", lambda: raw.insert_pipeline(rows), flush),
                Side("typedredis", lambda: Item.save_all(typed_items(rows)) and None, flush),
            ),
            base="raw-Lua",
            unit="s",
            scale=1.0,
        ),
        Bench(
            "get",
            "get by pk (1 000 gets, per get)",
            (
                Side("raw-Lua", gets(raw.get), prepare_gets),  # one HMGET: no script needed
                Side("typedredis", gets(Item.get), prepare_gets),
            ),
            base="raw-Lua",
            unit=f"{'µ'}s",
            scale=1e6,
        ),
        query_bench("eq", "equality query", raw.eq_keys, eq, expect["eq"]),
        query_bench(
            "and_not", "two equalities AND one not-equal", raw.and_not_keys, and_not, expect["and_not"]
        ),
        Bench(
            "count",
            f"count of a two-field AND ({expect['count']:,})",
            (
                Side("bare SINTERCARD", repeated(sintercard, 200, size(expect["count"])), back_to_dataset),
                Side(
                    "raw-Lua: SINTERCARD in a script",
                    repeated(sintercard_lua, 200, size(expect["count"])),
                    back_to_dataset,
                ),
                Side("typedredis", repeated(count, 200, size(expect["count"])), back_to_dataset),
            ),
            base="bare SINTERCARD",
            unit=f"{'µ'}s",
            scale=1e6,
        ),
        Bench(
            "update",
            f"change one indexed field of {UPDATES:,} loaded objects, one call each (per object)",
            (
                Side("raw-Lua", update_raw_lua, prepare_raw_lua),
                Side("raw-pipeline", update_raw_pipeline, prepare_raw_pipeline),
                Side("typedredis (partial save)", update_typed, prepare_typed(whole=False)),
                Side("typedredis (whole save)", update_typed, prepare_typed(whole=True)),
            ),
            base="raw-Lua",
            unit=f"{'µ'}s",
            scale=1e6,
        ),
    ]


def set_batch(per: int) -> None:
    """Make typedredis send ``per`` objects per save call."""
    operations.OBJECTS_PER_CALL = per  # type: ignore[misc]  # the constant under measurement


def sweep_benches(client: redis.Redis, n: int, sizes: Sequence[int]) -> list[Bench]:
    """typedredis' bulk insert and reset at each number of objects per script call."""
    rows = make_rows(n, 2)
    state: dict[str, list[Item]] = {}

    def prepare(per: int, for_reset: bool) -> Callable[[], None]:
        def go() -> None:
            client.flushall(asynchronous=False)
            if for_reset:
                Item.save_all(typed_items(rows))
            state["objs"] = typed_items(rows)
            set_batch(per)

        return go

    def insert() -> None:
        Item.save_all(state["objs"])

    def reset() -> None:
        Item.reset(state["objs"])

    default = operations.OBJECTS_PER_CALL
    workloads = (
        ("sweep_insert", f"bulk insert of {n:,} built objects (save_all)", insert, False),
        ("sweep_reset", f"reset of {n:,} built objects over {n:,} stored", reset, True),
    )
    return [
        Bench(
            key,
            label,
            tuple(Side(f"{per} per call", call, prepare(per, for_reset)) for per in sizes),
            base=f"{default} per call",
            unit="s",
            scale=1.0,
        )
        for key, label, call, for_reset in workloads
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="time typedredis' batch sizes instead")
    parser.add_argument("--sizes", default="25,50,100,200,400", help="objects per call for --sweep")
    parser.add_argument("--markdown", help="write the table to this file")
    parser.add_argument("--json", help="write every round's numbers to this file")
    parser.add_argument(
        "--only", help="comma-separated workloads to run (insert,get,eq,and_not,count,update)"
    )
    args = parser.parse_args(argv)
    rnd = random.Random(14)
    with private_server() as (server, client, _):
        typedredis.connect(server.url)
        default = operations.OBJECTS_PER_CALL
        try:
            if args.sweep:
                sizes = sorted({int(s) for s in args.sizes.split(",")} | {default})
                benches = sweep_benches(client, args.n, sizes)
            else:
                Item.save_all(typed_items(make_rows(args.n, 1)))
                benches = main_benches(client, Raw(client), args.n, rnd)
            if args.only:
                wanted = set(args.only.split(","))
                benches = [b for b in benches if b.key in wanted]
            results = interleave(client, benches, args.rounds, slowlog_us=0 if args.sweep else 500)
        finally:
            set_batch(default)
    text = table(results, benches)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        from harness import as_json

        Path(args.json).write_text(json.dumps(as_json(results), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
