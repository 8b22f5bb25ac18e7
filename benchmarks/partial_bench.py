"""Updating one indexed field of 1 000 loaded objects (issue 14): a partial save against a
whole save and against the raw-Lua limit.

    python benchmarks/partial_bench.py --n 100000 --rounds 7

One private redis-server holds N objects of the peers' benchmark model (three equality
indexes, a float and a text; benchmarks/worker.py). Each round, in an order that rotates,
three sides each change the ``category`` of 1 000 objects (a sample of a third of the
objects that only that side touches), one call per object, and the clock covers the calls
only (the objects are loaded before):

- **raw-Lua**: one ``EVALSHA`` per object of a minimal script that reads the stored
  category, writes the new one (msgpack, as typedredis stores it) and moves the pk between the
  two index sets (sets of its own; atomic, reads the stored value as typedredis does; no unique
  checks, no index records, no hidden fields);
- **typedredis, partial**: ``obj.category = ...; obj.save()`` on objects loaded with
  ``Item.get_many`` (the save writes only ``category`` and moves its entry);
- **typedredis, whole**: the same on objects that do not remember what was loaded (as if built
  in memory), so the save writes every field and moves every entry.

Prints medians over the rounds and the ratios to raw-Lua, and the script's own server time
per call (``INFO commandstats``). With ``--markdown FILE`` also writes the table there.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

import msgpack
import redis

import typedredis
from typedredis import Indexed, Model
from typedredis.rows import STORED
from typedredis.testing import RedisServer

CATEGORIES = [f"c{i:03d}" for i in range(100)]
STATUSES = ["new", "open", "held", "done"]
REGIONS = [f"r{i}" for i in range(10)]
UPDATES = 1000

RAW_LUA = """
local okey = KEYS[1] .. ARGV[1]
local old = redis.call('HGET', okey, 'category')
redis.call('HSET', okey, 'category', ARGV[2])
if old then redis.call('SREM', KEYS[2] .. old, ARGV[1]) end
redis.call('SADD', KEYS[2] .. ARGV[2], ARGV[1])
return 1
"""


class Item(Model, key="bench_partial"):
    category: Indexed[str]
    status: Indexed[str]
    region: Indexed[str]
    score: float
    text: str


def fill(n: int, rnd: random.Random) -> None:
    def items() -> Any:
        for i in range(n):
            yield Item(
                category=rnd.choice(CATEGORIES),
                status=rnd.choice(STATUSES),
                region=rnd.choice(REGIONS),
                score=rnd.random() * 1000,
                text=f"item {i} " + "x" * 40,
            )

    Item.reset(items())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    rnd = random.Random(14)
    with RedisServer() as server:
        raw = redis.Redis.from_url(server.url)
        typedredis.connect(server.url)
        fill(args.n, rnd)
        gen = int(raw.hget(Item.spec().keys.meta, "gen") or 0)
        prefix = Item.spec().keys.generation(gen)
        # the raw layout: the same hashes; index sets named by the raw category bytes
        script = raw.register_script(RAW_LUA)
        object_prefix, index_prefix = prefix + b"o:", prefix + b"rawi:category:"
        pks = Item.objects.pks()
        times: dict[str, list[float]] = {"raw-Lua": [], "typedredis, partial": [], "typedredis, whole": []}
        thirds = {name: pks[i::3] for i, name in enumerate(times)}
        packed = {c: msgpack.packb(c) for c in CATEGORIES}
        server_us: dict[str, list[float]] = {name: [] for name in times}

        def raw_side(sample: list[int]) -> None:
            for pk in sample:
                script(keys=[object_prefix, index_prefix], args=[pk, packed[rnd.choice(CATEGORIES)]])

        def typed_side(objects: list[Item]) -> None:
            for obj in objects:
                obj.category = rnd.choice(CATEGORIES)
                obj.save()

        for round_no in range(args.rounds):
            order = list(times)
            order = order[round_no % 3 :] + order[: round_no % 3]
            for side in order:
                sample = rnd.sample(thirds[side], UPDATES)
                loaded = [obj for obj in Item.get_many(sample) if obj is not None]
                if side == "typedredis, whole":
                    for obj in loaded:
                        del obj.__dict__[STORED]
                raw.config_resetstat()
                start = time.perf_counter()
                if side == "raw-Lua":
                    raw_side(sample)
                else:
                    typed_side(loaded)
                times[side].append(time.perf_counter() - start)
                stats = raw.info("commandstats").get("cmdstat_evalsha", {"usec": 0, "calls": 1})
                server_us[side].append(stats["usec"] / stats["calls"])
        base = statistics.median(times["raw-Lua"])
        lines = [
            f"| update `category` of {UPDATES:,} loaded objects, N = {args.n:,} | median | ratio to raw-Lua "
            "| server time per call |",
            "|---|---|---|---|",
        ]
        for side, values in times.items():
            median = statistics.median(values)
            lines.append(
                f"| {side} | {median * 1e3:.1f} ms | {median / base:.2f}\N{MULTIPLICATION SIGN} | "
                f"{statistics.median(server_us[side]):.1f} µs |"
            )
        print("\n".join(lines))
        if args.markdown:
            with open(args.markdown, "w") as out:
                out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
