"""The page benchmark: a 20-object page ordered by a `Sorted` field out of N objects (issue 5).

    python benchmarks/page.py                       # N = 1 000 000 (~1.1 GB in Redis, ~5-6 min)
    python benchmarks/page.py --n 50000 --rounds 100  # a quick run
    python benchmarks/page.py --render benchmarks/page-results.json   # rewrite the page only

It starts one private ``redis-server`` (`typedredis.testing.RedisServer`: unix socket, no
persistence), saves N ``Event`` objects with ``Event.save_all`` and then times, call by call,
typedredis' queries against raw redis-py doing the same commands on the same keys (raw reads
typedredis' layout directly; see `RAW_SCRIPTS` and the page for exactly what raw does):

- ``eq10`` / ``eq01``: ``Event.query(Event.f.kind == k).order_by(Event.f.at.desc()).limit(20)
  .offset(40).all()`` for a kind held by ~10 % of the objects (typedredis walks the sorted index)
  and one held by ~0.1 % (typedredis sorts the filtered set in a scratch sorted set);
- ``index``: the same page without a filter (``Event.objects.order_by(...)``);
- ``range``: ``Event.query(Event.f.at >= t).order_by(Event.f.at).limit(20).all()``.

Every round runs every variant once, alternating which of raw and typedredis goes first; each
call is timed on its own (wall clock and client CPU), and after each call ``INFO commandstats``
gives the server time of that ``EVALSHA`` and the commands it ran. Medians are reported. A second,
smaller loop (the *strategy check*) times both of typedredis' strategies, as raw scripts, for
kinds of 10 %, 1 %, 0.3 % and 0.1 %, next to typedredis' own choice. Every page returned by
either side is checked against the page computed in Python.

It writes ``benchmarks/page-results.json`` (every call's numbers) and the page
``docs/explanation/benchmarks-page.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    X,
    commandstats,
    fmt,
    fmt_ratio,
    git_commit,
    loadavg,
    markdown,
    median_or_none,
    private_server,
    progress,
    quartiles,
    save_results,
    write,
)

# -- the dataset ------------------------------------------------------------------------------

KEY = "page_event"
TEXT_SEED = "".join(random.Random(7).choice("abcdefghijklmnopqrstuvwxyz     ") for _ in range(1400))
BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_US = 365 * 86_400 * 1_000_000  # `at` is uniform over one year, microsecond resolution
# kind -> share of the objects; the rest spread evenly over 30 other kinds (~3 % each)
KINDS = {"k10": 0.10, "k1": 0.01, "k03": 0.003, "k01": 0.001}
# a kind whose objects are all old: its `at` lies in the first 5 % of the year (a filter
# correlated with the order, like "archived" ordered by date, newest first)
OLD, OLD_SHARE = "old5", 0.05
OTHERS = [f"o{i:02d}" for i in range(30)]
ALL_KINDS = [*KINDS, OLD, *OTHERS]
OFFSET, LIMIT = 40, 20
RANGE_FROM_US = SPAN_US // 2  # the range workload: at >= the middle of the year (~50 %)
INSERT_CHUNK = 50_000  # objects built and saved per save_all call (bounds client memory)
SOCKET_TIMEOUT = 600.0  # seconds; redis-py's default (5 s) is shorter than the slowest calls


def make_rows(n: int, seed: int) -> list[tuple[int, int, int, int]]:
    """Per object: (kind index into ALL_KINDS, at in microseconds from BASE, size, text offset)."""
    rnd = random.Random(seed)
    bounds = []
    acc = 0.0
    for share in [*KINDS.values(), OLD_SHARE]:
        acc += share
        bounds.append(acc)
    old = ALL_KINDS.index(OLD)
    rows = []
    for _ in range(n):
        r = rnd.random()
        kind = next((i for i, b in enumerate(bounds) if r < b), -1)
        if kind < 0:
            kind = old + 1 + rnd.randrange(len(OTHERS))
        at = rnd.randrange(SPAN_US // 20 if kind == old else SPAN_US)
        rows.append((kind, at, rnd.randrange(1_000_000), rnd.randrange(1200)))
    return rows


def define_model() -> type[Any]:
    from typedredis import Indexed, Model, Sorted

    class Event(Model, key=KEY):
        kind: Indexed[str]
        at: Sorted[datetime]
        size: Sorted[int]
        title: str
        text: str

    return Event


def build(Event: type[Any], rows: Sequence[tuple[int, int, int, int]], start: int) -> list[Any]:
    out = []
    for i, (kind, at, size, t) in enumerate(rows, start):
        head = f"{i:09d} "
        out.append(
            Event(
                kind=ALL_KINDS[kind],
                at=BASE + timedelta(microseconds=at),
                size=size,
                title=f"event {i} ({ALL_KINDS[kind]})",
                text=head + TEXT_SEED[t : t + 200 - len(head)],
            )
        )
    return out


# -- raw redis-py -----------------------------------------------------------------------------

# Every raw script gets ARGV[1] = the object key prefix ("{page_event}:<gen>:o:"), ARGV[2] = nf,
# ARGV[3..2+nf] = the fields to fetch, then its own arguments from ARGV[A]; it returns
# pk, value1..value_nf, pk, ... for the page's objects, in page order.
RAW_HEAD = """
local prefix, nf = ARGV[1], tonumber(ARGV[2])
local fields = {unpack(ARGV, 3, 2 + nf)}
local A = 3 + nf
local function pk_of(member) -- the 8-byte big-endian pk that ends every sorted-index member
  local hi, lo = struct.unpack('>I4I4', string.sub(member, -8))
  return string.format('%.0f', hi * 4294967296 + lo)
end
local function fetch(pks)
  local out = {}
  for _, pk in ipairs(pks) do
    out[#out + 1] = pk
    local values = redis.call('HMGET', prefix .. pk, unpack(fields))
    for i = 1, nf do out[#out + 1] = values[i] end
  end
  return out
end
"""

RAW_SCRIPTS = {
    # KEYS[1] the sorted index; ARGV[A] offset, ARGV[A+1] limit. Descending.
    "index": """
local offset, limit = tonumber(ARGV[A]), tonumber(ARGV[A + 1])
local pks = redis.call('ZREVRANGE', KEYS[1], offset, offset + limit - 1)
for i, m in ipairs(pks) do pks[i] = pk_of(m) end
return fetch(pks)
""",
    # KEYS[1] the sorted index; ARGV[A], ARGV[A+1] the ZRANGEBYLEX bounds, then offset, limit.
    "range": """
local pks = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[A], ARGV[A + 1], 'LIMIT', ARGV[A + 2], ARGV[A + 3])
for i, m in ipairs(pks) do pks[i] = pk_of(m) end
return fetch(pks)
""",
    # Walk: KEYS[1] the sorted index, KEYS[2] the equality set; ARGV[A] offset, limit, chunk.
    # ZREVRANGE chunk by chunk, SISMEMBER per entry, until offset + limit hits. Descending.
    "walk": """
local offset, limit, chunk = tonumber(ARGV[A]), tonumber(ARGV[A + 1]), tonumber(ARGV[A + 2])
local pks, hits, start = {}, 0, 0
while #pks < limit do
  local members = redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)
  if #members == 0 then break end
  start = start + chunk
  for _, m in ipairs(members) do
    local pk = pk_of(m)
    if redis.call('SISMEMBER', KEYS[2], pk) == 1 then
      hits = hits + 1
      if hits > offset then
        pks[#pks + 1] = pk
        if #pks >= limit then break end
      end
    end
  end
end
return fetch(pks)
""",
    # The walk with one SMISMEMBER per chunk instead of one SISMEMBER per entry (Redis >= 6.2).
    "walk_smis": """
local offset, limit, chunk = tonumber(ARGV[A]), tonumber(ARGV[A + 1]), tonumber(ARGV[A + 2])
local pks, hits, start = {}, 0, 0
while #pks < limit do
  local members = redis.call('ZREVRANGE', KEYS[1], start, start + chunk - 1)
  if #members == 0 then break end
  start = start + chunk
  for i, m in ipairs(members) do members[i] = pk_of(m) end
  local found = redis.call('SMISMEMBER', KEYS[2], unpack(members))
  for i, pk in ipairs(members) do
    if found[i] == 1 then
      hits = hits + 1
      if hits > offset then
        pks[#pks + 1] = pk
        if #pks >= limit then break end
      end
    end
  end
end
return fetch(pks)
""",
    # A walk of a range of the sorted index from its low bound (not from rank 0):
    # ZRANGEBYLEX low high LIMIT 0 chunk, continuing after the last member seen; SISMEMBER
    # of the equality set per entry. Ascending. (typedredis does this, with SMISMEMBER per chunk.)
    "range_walk": """
local low, high = ARGV[A], ARGV[A + 1]
local offset, limit, chunk = tonumber(ARGV[A + 2]), tonumber(ARGV[A + 3]), tonumber(ARGV[A + 4])
local pks, hits = {}, 0
while #pks < limit do
  local members = redis.call('ZRANGEBYLEX', KEYS[1], low, high, 'LIMIT', 0, chunk)
  if #members == 0 then break end
  low = '(' .. members[#members]
  for _, m in ipairs(members) do
    local pk = pk_of(m)
    if redis.call('SISMEMBER', KEYS[2], pk) == 1 then
      hits = hits + 1
      if hits > offset then
        pks[#pks + 1] = pk
        if #pks >= limit then break end
      end
    end
  end
end
return fetch(pks)
""",
    # Sort: KEYS[1] the equality set, KEYS[2] a scratch sorted set; ARGV[A] the hash field of
    # the stored sort key ("~at"), offset, limit. SMEMBERS, HGET of each object's sort key,
    # ZADD (1 000 members per call) of sort key .. pk8, ZREVRANGE of the page, UNLINK. Descending.
    "sort": """
local sortfield, offset, limit = ARGV[A], tonumber(ARGV[A + 1]), tonumber(ARGV[A + 2])
local batch = {}
for _, pk in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = redis.call('HGET', prefix .. pk, sortfield)
  local n = tonumber(pk)
  batch[#batch + 1] = 0
  batch[#batch + 1] = key .. struct.pack('>I4I4', math.floor(n / 4294967296), n % 4294967296)
  if #batch >= 2000 then
    redis.call('ZADD', KEYS[2], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then redis.call('ZADD', KEYS[2], unpack(batch)) end
local pks = redis.call('ZREVRANGE', KEYS[2], offset, offset + limit - 1)
redis.call('UNLINK', KEYS[2])
for i, m in ipairs(pks) do pks[i] = pk_of(m) end
return fetch(pks)
""",
}


def walk_chunk(n: int, total: int, offset: int = OFFSET, limit: int = LIMIT) -> int:
    """typedredis' walk chunk size (query.lua) for a filter of n objects out of total."""
    walk = min(n, offset + limit) * total / n
    return max(128, min(4096, math.ceil(walk / 4)))


def typedredis_walks(n: int, total: int, offset: int = OFFSET, limit: int = LIMIT) -> bool:
    """typedredis' choice (query.lua): walk the sorted index when it expects to visit <= 2 n entries."""
    return n > 0 and min(n, offset + limit) * total / n <= 2 * n


class Raw:
    """redis-py calling a minimal Lua script on typedredis' own keys; values msgpack-decoded into
    plain dicts (no validation), like the raw column of the main benchmark."""

    def __init__(self, client: Any, gen: int, fields: list[str]) -> None:
        import msgpack

        self.client = client
        self.gen = gen
        self.p = b"{" + KEY.encode() + b"}:%d:" % gen
        self.fields = [f.encode() for f in fields]
        self.names = fields
        self.head = [self.p + b"o:", len(fields), *self.fields]
        self.scripts = {name: client.register_script(RAW_HEAD + body) for name, body in RAW_SCRIPTS.items()}
        unpackb = msgpack.unpackb

        def ext(code: int, data: bytes) -> Any:
            if code == 2:  # typedredis' datetime ext type: ISO 8601 text
                return datetime.fromisoformat(data.decode())
            return msgpack.ExtType(code, data)

        def decode(reply: list[bytes]) -> list[dict[str, Any]]:
            stride = 1 + len(fields)
            out = []
            for i in range(0, len(reply), stride):
                row = {
                    f: unpackb(v, ext_hook=ext)
                    for f, v in zip(fields, reply[i + 1 : i + stride], strict=True)
                }
                row["pk"] = int(reply[i])
                out.append(row)
            return out

        self.decode = decode

    def eq_member(self, kind: str) -> bytes:
        import msgpack

        member: bytes = msgpack.packb(kind)
        return self.p + b"i:kind:" + member

    def index(self) -> list[dict[str, Any]]:
        reply = self.scripts["index"](keys=[self.p + b"s:at"], args=[*self.head, OFFSET, LIMIT])
        return self.decode(reply)

    def range(self, low: bytes) -> list[dict[str, Any]]:
        reply = self.scripts["range"](keys=[self.p + b"s:at"], args=[*self.head, low, b"+", 0, LIMIT])
        return self.decode(reply)

    def walk(self, kind: str, chunk: int, smis: bool = False) -> list[dict[str, Any]]:
        script = self.scripts["walk_smis" if smis else "walk"]
        reply = script(keys=[self.p + b"s:at", self.eq_member(kind)], args=[*self.head, OFFSET, LIMIT, chunk])
        return self.decode(reply)

    def range_walk(self, kind: str, low: bytes, chunk: int) -> list[dict[str, Any]]:
        script = self.scripts["range_walk"]
        keys = [self.p + b"s:at", self.eq_member(kind)]
        return self.decode(script(keys=keys, args=[*self.head, low, b"+", 0, LIMIT, chunk]))

    def sort(self, kind: str) -> list[dict[str, Any]]:
        scratch = b"{" + KEY.encode() + b"}:rawtmp"
        reply = self.scripts["sort"](
            keys=[self.eq_member(kind), scratch], args=[*self.head, b"~at", OFFSET, LIMIT]
        )
        return self.decode(reply)


def at_bound(micros: int) -> bytes:
    """``[`` + the sort key of an aware datetime (sortkeys.py: 0x01, 0x02, int key of micros)."""
    from typedredis.sortkeys import int_key

    since = (BASE - datetime(1, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) + micros
    return b"[\x01\x02" + int_key(since)


# -- the variants -----------------------------------------------------------------------------


class Variant:
    """One timed call: ``fn`` returns the page; ``expect`` is the page's pks."""

    def __init__(self, key: str, side: str, fn: Callable[[], list[Any]], expect: list[int]) -> None:
        self.key, self.side, self.fn, self.expect = key, side, fn, expect
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.server_us: list[float] = []
        self.commands: dict[str, int] = {}
        self.calls = 0


def pks_of(rows: list[Any]) -> list[int]:
    return [r["pk"] if isinstance(r, dict) else r.pk for r in rows]


def measure(client: Any, variants: list[Variant], rounds: int, label: str) -> None:
    """``rounds`` rounds; each runs every variant once, raw and typedredis alternating first."""
    for v in variants:  # warm-up (loads scripts) and the correctness check
        got = pks_of(v.fn())
        if got != v.expect:
            raise AssertionError(f"{v.key}/{v.side}: page {got[:5]}... != expected {v.expect[:5]}...")
    workloads: dict[str, list[Variant]] = {}
    for v in variants:
        workloads.setdefault(v.key, []).append(v)
    gc.collect()
    started = time.monotonic()
    for r in range(rounds):
        # odd rounds: each workload's sides in reverse order
        order = variants if r % 2 == 0 else [v for sides in workloads.values() for v in sides[::-1]]
        for v in order:
            before = commandstats(client)
            c0 = time.process_time()
            t0 = time.perf_counter()
            rows = v.fn()
            t1 = time.perf_counter()
            c1 = time.process_time()
            after = commandstats(client)
            if r == 0 and pks_of(rows) != v.expect:
                raise AssertionError(f"{v.key}/{v.side}: wrong page")
            v.wall.append(t1 - t0)
            v.cpu.append(c1 - c0)
            ev = after.get("evalsha", (0, 0))
            ev0 = before.get("evalsha", (0, 0))
            if ev[0] - ev0[0] == 1:
                v.server_us.append(ev[1] - ev0[1])
            for name, (calls, _) in after.items():
                d = calls - before.get(name, (0, 0))[0]
                if d and name != "info":
                    v.commands[name] = v.commands.get(name, 0) + d
            v.calls += 1
        if (r + 1) % max(1, rounds // 5) == 0:
            progress(label, r + 1, rounds, started)


def summary(v: Variant) -> dict[str, Any]:
    return {
        "key": v.key,
        "side": v.side,
        "calls": v.calls,
        "wall_ms": median_or_none([x * 1e3 for x in v.wall]),
        "wall_ms_quartiles": quartiles([x * 1e3 for x in v.wall]),
        "client_cpu_ms": median_or_none([x * 1e3 for x in v.cpu]),
        "server_ms": median_or_none([x / 1e3 for x in v.server_us]),
        "commands_per_call": {k: round(c / v.calls, 1) for k, c in sorted(v.commands.items()) if v.calls},
        "wall_ms_all": [round(x * 1e3, 4) for x in v.wall],
        "server_us_all": v.server_us,
    }


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    import typedredis

    data: dict[str, Any] = {"loadavg": [loadavg()], "commits": [git_commit()]}
    # redis-py >= 8 gives up reading a reply after 5 s by default; some of the slow shapes of the
    # plan check take longer than that at N = 1 000 000 (see the page)
    with private_server(args.server, socket_timeout=SOCKET_TIMEOUT) as (server, client, record):
        data.update(record)  # server_version, server_binary
        typedredis.connect(server.client(socket_timeout=SOCKET_TIMEOUT))
        Event = define_model()
        f = Event.f

        # -- insert ------------------------------------------------------------------------
        rows = make_rows(args.n, args.seed)
        pks: list[int] = []
        base_mem = int(client.info("memory")["used_memory"])
        saving = 0.0
        started = time.monotonic()
        for start in range(0, args.n, INSERT_CHUNK):
            objs = build(Event, rows[start : start + INSERT_CHUNK], start)
            gc.collect()
            t0 = time.perf_counter()
            Event.save_all(objs)
            saving += time.perf_counter() - t0
            pks += [o.pk for o in objs]
            del objs
            if start and start % (INSERT_CHUNK * 4) == 0:
                print(f"  saved {start:,} objects ({time.monotonic() - started:.0f} s)", flush=True)
        data["insert_seconds"] = saving
        data["bytes_per_object"] = (int(client.info("memory")["used_memory"]) - base_mem) / args.n
        data["used_memory_human"] = client.info("memory")["used_memory_human"]
        took = time.monotonic() - started
        print(f"saved {args.n:,} objects in {saving:.1f} s of save_all ({took:.0f} s with building)")
        gen = int(client.hget(b"{" + KEY.encode() + b"}:meta", "gen") or 0)
        raw = Raw(client, gen, list(Event.spec().stored))

        # -- expected pages (Python) -------------------------------------------------------
        order_desc = sorted(range(args.n), key=lambda i: (rows[i][1], pks[i]), reverse=True)
        by_kind: dict[int, list[int]] = {}
        for i in order_desc:
            by_kind.setdefault(rows[i][0], []).append(pks[i])
        counts = {k: len(by_kind.get(ALL_KINDS.index(k), [])) for k in [*KINDS, OLD]}
        data["kind_counts"] = counts

        def expect_kind(kind: str) -> list[int]:
            return by_kind.get(ALL_KINDS.index(kind), [])[OFFSET : OFFSET + LIMIT]

        expect_index = [pks[i] for i in order_desc[OFFSET : OFFSET + LIMIT]]
        expect_range = [pks[i] for i in reversed(order_desc) if rows[i][1] >= RANGE_FROM_US][:LIMIT]
        k10 = ALL_KINDS.index("k10")
        expect_range_eq = [
            pks[i] for i in reversed(order_desc) if rows[i][1] >= RANGE_FROM_US and rows[i][0] == k10
        ][:LIMIT]
        del order_desc

        t_from = BASE + timedelta(microseconds=RANGE_FROM_US)
        low = at_bound(RANGE_FROM_US)

        def typed_kind(kind: str) -> Callable[[], list[Any]]:
            return lambda: Event.query(f.kind == kind).order_by(f.at.desc()).limit(LIMIT).offset(OFFSET).all()

        def raw_kind(kind: str, strategy: str) -> Callable[[], list[Any]]:
            n = counts[kind]
            if strategy == "sort":
                return lambda: raw.sort(kind)
            chunk = walk_chunk(n, args.n) if n else 128
            return lambda: raw.walk(kind, chunk, smis=strategy == "walk_smis")

        def same_strategy(kind: str) -> str:
            return "walk" if typedredis_walks(counts[kind], args.n) else "sort"

        variants = [
            Variant("eq10", "raw", raw_kind("k10", same_strategy("k10")), expect_kind("k10")),
            Variant("eq10", "typedredis", typed_kind("k10"), expect_kind("k10")),
            Variant("eq01", "raw", raw_kind("k01", same_strategy("k01")), expect_kind("k01")),
            Variant("eq01", "typedredis", typed_kind("k01"), expect_kind("k01")),
            Variant("index", "raw", raw.index, expect_index),
            Variant(
                "index",
                "typedredis",
                lambda: Event.objects.order_by(f.at.desc()).limit(LIMIT).offset(OFFSET).all(),
                expect_index,
            ),
            Variant("range", "raw", lambda: raw.range(low), expect_range),
            Variant(
                "range",
                "typedredis",
                lambda: Event.query(f.at >= t_from).order_by(f.at).limit(LIMIT).all(),
                expect_range,
            ),
        ]
        data["raw_strategy"] = {"eq10": same_strategy("k10"), "eq01": same_strategy("k01")}

        def loop(title: str, label: str, batch: list[Variant], rounds: int) -> list[dict[str, Any]]:
            """`measure` ``batch``, with the load average after it; its summaries."""
            print(f"{title}: {rounds} rounds of {len(batch)} calls (load {loadavg()})", flush=True)
            measure(client, batch, rounds, label)
            data["loadavg"].append(loadavg())
            return [summary(v) for v in batch]

        data["main"] = loop("main loop", "main", variants, args.rounds)
        sweep = [
            Variant(f"sweep:{kind}", side, fn, expect_kind(kind))
            for kind in KINDS
            for side, fn in (
                ("typedredis", typed_kind(kind)),
                ("raw walk", raw_kind(kind, "walk")),
                ("raw walk (SMISMEMBER)", raw_kind(kind, "walk_smis")),
                ("raw sort", raw_kind(kind, "sort")),
            )
        ]
        data["sweep"] = (
            loop("strategy check", "strategy check", sweep, args.sweep_rounds) if args.sweep_rounds else []
        )
        check = [
            Variant("old", "typedredis", typed_kind(OLD), expect_kind(OLD)),
            Variant("old", "raw walk", raw_kind(OLD, "walk"), expect_kind(OLD)),
            Variant("old", "raw sort", raw_kind(OLD, "sort"), expect_kind(OLD)),
            Variant(
                "range_eq",
                "typedredis",
                lambda: Event.query(f.kind == "k10", f.at >= t_from).order_by(f.at).limit(LIMIT).all(),
                expect_range_eq,
            ),
            Variant("range_eq", "raw range walk", lambda: raw.range_walk("k10", low, 256), expect_range_eq),
        ]
        data["check"] = (
            loop("plan check", "plan check", check, args.check_rounds) if args.check_rounds else []
        )
    data["commits"].append(git_commit())
    return data


# -- reporting --------------------------------------------------------------------------------

WORKLOADS = {
    "eq10": "`kind` = a 10 % kind, by `at` desc, offset 40, limit 20",
    "eq01": "`kind` = a 0.1 % kind, by `at` desc, offset 40, limit 20",
    "index": "no filter, by `at` desc, offset 40, limit 20",
    "range": "`at >=` mid-year (~50 %), by `at`, limit 20",
}

RAW_DEFINITIONS = """\
| workload | what typedredis runs (one `EVALSHA` of query.lua) | what raw runs (one `EVALSHA` of a 10-25 line script, keys named by the client) |
|---|---|---|
| 10 % kind | `HGET meta gen`; `SCARD` of the equality set, `ZCARD` of the sorted index (its estimate: 60 \u00d7 N / n index entries to visit, ≤ 2 n, so it walks); `ZREVRANGE` of `s:at` in chunks (`max(128, min(4096, ⌈visits / 4⌉))` entries), one `SISMEMBER` of the `i:kind:…` set per entry until 60 hits; `HMGET` of the last 20, returned as one flat array; client: a pydantic validation per row | the same walk with the same chunk size (computed on the client from the known counts: no `HGET meta`, `SCARD`, `ZCARD`), `HMGET` of the 20 objects; client: one `msgpack.unpackb` per value into a plain `dict` |
| 0.1 % kind | `HGET meta gen`, `SCARD`, `ZCARD` (the walk would visit 60 \u00d7 N / n > 2 n entries, so it sorts); `SMEMBERS` of the equality set, `HGET o:<pk> ~at` per member, `ZADD` of `sort key + 8-byte pk` into a scratch sorted set (1 000 members per call), `ZREVRANGE 40 59`, `HMGET` of the 20, `UNLINK` of the scratch key | the same: `SMEMBERS`, one `HGET` per member, `ZADD` per 1 000, `ZREVRANGE 40 59`, `UNLINK`, `HMGET` of the 20 (raw knows in advance that it must sort) |
| no filter | `HGET meta gen`; `ZREVRANGE s:at 40 59`; `HMGET` of the 20 | `ZREVRANGE s:at 40 59`; `HMGET` of the 20 |
| range | `HGET meta gen`; `ZRANGEBYLEX s:at [<sort key of t> + LIMIT 0 20` (the range is on the order field, so the page is read straight from the index); `HMGET` of the 20 | `ZRANGEBYLEX` with the same bounds (computed on the client), `HMGET` of the 20 |
"""  # noqa: E501


def render(data: dict[str, Any]) -> str:
    args = data["args"]
    n = args["n"]
    main = {(s["key"], s["side"]): s for s in data["main"]}
    mach = data["machine"]
    counts = data["kind_counts"]

    def ms(x: float | None) -> str:
        return "—" if x is None else f"{fmt(x)} ms"

    def commands(s: dict[str, Any]) -> str:
        skip = {"evalsha"}
        parts = [
            f"{name.upper()} {fmt(c) if c != int(c) else int(c)}"
            for name, c in s["commands_per_call"].items()
            if name not in skip
        ]
        return ", ".join(parts)

    rows = []
    for key, label in WORKLOADS.items():
        r, t = main.get((key, "raw")), main.get((key, "typedredis"))
        if not r or not t:
            continue
        label = label.replace("10 % kind", f"10 % kind ({counts['k10']:,} objects)")
        label = label.replace("0.1 % kind", f"0.1 % kind ({counts['k01']:,} objects)")
        times = [ms(s[field]) for field in ("wall_ms", "server_ms", "client_cpu_ms") for s in (r, t)]
        rows.append([label, *times[:2], f"**{fmt_ratio(t['wall_ms'] / r['wall_ms'])}**", *times[2:]])
    table = markdown(
        [
            f"workload (N = {n:,})",
            "raw",
            "typedredis",
            "ratio",
            "raw server",
            "typedredis server",
            "raw client CPU",
            "typedredis client CPU",
        ],
        rows,
        compact=True,
    )
    cmd_table = markdown(
        ["workload", "side", "commands per call (average; inside the one `EVALSHA`)"],
        [
            [key, side, commands(main[(key, side)])]
            for key in WORKLOADS
            for side in ("raw", "typedredis")
            if (key, side) in main
        ],
        compact=True,
    )

    sweep_rows = []
    by_key: dict[str, dict[str, dict[str, Any]]] = {}
    for s in data.get("sweep", []):
        by_key.setdefault(s["key"], {})[s["side"]] = s
    for kind, share in KINDS.items():
        sides = by_key.get(f"sweep:{kind}")
        if not sides:
            continue
        t = sides["typedredis"]
        chose = "sort" if "zadd" in t["commands_per_call"] else "walk"
        walk, smis, sort = sides["raw walk"], sides["raw walk (SMISMEMBER)"], sides["raw sort"]
        best = "walk" if walk["wall_ms"] <= sort["wall_ms"] else "sort"
        sweep_rows.append(
            [
                f"`{kind}` ({share * 100:g} %, {counts[kind]:,})",
                chose,
                ms(t["wall_ms"]),
                *(f"{ms(s['wall_ms'])} ({ms(s['server_ms'])})" for s in (walk, sort, smis)),
                best + (" ✓" if best == chose else " ✗"),
            ]
        )
    sweep_table = markdown(
        [
            "kind (share, objects)",
            "typedredis chose",
            "typedredis",
            "raw walk (server)",
            "raw sort (server)",
            "raw walk with SMISMEMBER (server)",
            "faster of walk / sort",
        ],
        sweep_rows,
        compact=True,
    )
    check = {(c["key"], c["side"]): c for c in data.get("check", [])}
    check_rows = []

    def visits(c: dict[str, Any]) -> str:
        cmds = c["commands_per_call"]
        parts = []
        if "sismember" in cmds:
            parts.append(f"{cmds['sismember']:,.0f} `SISMEMBER` (index entries walked)")
        if cmds.get("hget", 0) > 1:
            parts.append(f"{cmds['hget']:,.0f} `HGET` (sort keys read, then `ZADD`)")
        if "sadd" in cmds:
            parts.append(f"{cmds['sadd']:,.0f} `SADD` calls (a scratch set)")
        return ", ".join(parts)

    shapes = (
        (
            "old",
            f'`kind == "{OLD}"` ({counts.get(OLD, 0):,} objects, all in the oldest 5 % of `at`), '
            "by `at` desc, offset 40, limit 20",
            ("raw walk", "raw sort"),
        ),
        (
            "range_eq",
            '`kind == "k10"` and `at >=` mid-year, by `at`, limit 20',
            ("raw range walk",),
        ),
    )
    for key, label, raws in shapes:
        t = check.get((key, "typedredis"))
        if not t:
            continue
        cells = []
        for side in raws:
            r = check[(key, side)]
            cells.append(
                f"{side}: {ms(r['wall_ms'])} (server {ms(r['server_ms'])}; {visits(r)}) "
                f"→ typedredis **{fmt_ratio(t['wall_ms'] / r['wall_ms'])}**"
            )
        typed = f"{ms(t['wall_ms'])} (server {ms(t['server_ms'])}; {visits(t)})"
        check_rows.append([label, typed, "<br>".join(cells)])
    longest = max(
        (
            max(c["wall_ms_all"])
            for c in data.get("check", [])
            if c["side"] == "typedredis" and c["wall_ms_all"]
        ),
        default=0,
    )
    slow_note = (
        [
            "- **Seconds of blocking.** One script does all of this, so the server serves nobody else",
            f"  meanwhile: the longest of these typedredis calls took {longest / 1e3:.1f} s. Past 5 s,",
            "  Redis' `busy-reply-threshold` (`lua-time-limit`), every other client gets `BUSY` errors",
            "  until the script ends, and redis-py \u2265 8, whose default `socket_timeout` is 5 s, gives",
            "  up on the call with `TimeoutError` while the script keeps running (this benchmark",
            "  raises the client timeout to 600 s). On a busier machine or a larger dataset these",
            "  shapes cross both.",
        ]
        if longest > 1000
        else []
    )
    check_table = markdown(["query", "typedredis", "raw"], check_rows, compact=True)
    loads = ", ".join(data["loadavg"])
    other = (1 - sum(KINDS.values()) - OLD_SHARE) / len(OTHERS)
    kinds_text = (
        ", ".join(f"{share * 100:g} %" for share in KINDS.values())
        + f", {OLD_SHARE * 100:g} % (all old) and {len(OTHERS)} \u00d7 {other * 100:.1f} %"
    )
    old_visits = f"{(OFFSET + LIMIT) * n / max(1, counts.get(OLD, 1)):,.0f}"
    headline = ""
    r, t = main.get(("eq10", "raw")), main.get(("eq10", "typedredis"))
    r1, t1 = main.get(("eq01", "raw")), main.get(("eq01", "typedredis"))
    if r and t and r1 and t1:
        headline = (
            f"**In short:** a 20-object page (offset 40) ordered by a `Sorted` datetime out of {n:,} "
            f"objects, filtered by one equality index, took **{fmt(t['wall_ms'])} ms** with typedredis "
            f"against {fmt(r['wall_ms'])} ms for raw redis-py doing the same commands "
            f"({fmt_ratio(t['wall_ms'] / r['wall_ms'])}) when the filter holds 10 % of the objects, and "
            f"**{fmt(t1['wall_ms'])} ms** against {fmt(r1['wall_ms'])} ms "
            f"({fmt_ratio(t1['wall_ms'] / r1['wall_ms'])}) when it holds 0.1 %."
        )
    commits = data.get("commits") or ["?"]
    commit = (
        commits[0] if commits[0] == commits[-1] else f"{commits[0]} to {commits[-1]} (changed during the run)"
    )
    v = data["versions"]
    out = [
        f"# Benchmark: one ordered page out of {n:,} objects",
        "",
        "What a paginated, ordered query costs in typedredis, measured against raw redis-py doing",
        "the same commands on the same keys: a 20-object page ordered by a `Sorted` field out of",
        f'{n:,} objects, with and without an equality filter. The numbers answer the "done means"',
        "of issue 5. Each number is a median over interleaved calls; the ratio is typedredis / raw",
        "(lower is better, 1.00\u00d7 is the physical limit of this work on this server).",
        "",
        f"*Generated by `python benchmarks/page.py --n {n} --rounds {args['rounds']} --sweep-rounds "
        f"{args['sweep_rounds']} --check-rounds {args.get('check_rounds', 0)}` on {data['date']}; "
        f"load average during the run: {loads} on {mach['cores']} cores.*",
        "",
        "The model, `Event`, has `kind: Indexed[str]` "
        f"({len(ALL_KINDS)} kinds: {kinds_text}), `at: Sorted[datetime]` (uniform over a year,",
        "microseconds, UTC), `size: Sorted[int]`, `title: str` and a 200-character `text: str`.",
        "The queries (the code is in `benchmarks/page.py`):",
        "",
        "- `Event.query(Event.f.kind == k).order_by(Event.f.at.desc()).limit(20).offset(40).all()`",
        "- `Event.objects.order_by(Event.f.at.desc()).limit(20).offset(40).all()`",
        "- `Event.query(Event.f.at >= t).order_by(Event.f.at).limit(20).all()`",
        "",
        "## Results",
        "",
        headline,
        "",
        table,
        "",
        "*Server* is the median server time of the one `EVALSHA` per query (`INFO commandstats`,",
        "read after every call); *client CPU* is the benchmark process's CPU time per call (building",
        "the query, encoding, decoding, pydantic validation for typedredis; decoding for raw). Wall",
        "time minus both is the round trip and scheduling.",
        "",
        f"The {n:,} objects were saved with `Event.save_all` in {data['insert_seconds']:.1f} s "
        f"(in calls of {INSERT_CHUNK:,} objects); Redis holds {data['bytes_per_object']:.0f} bytes per "
        f"object (`used_memory` {data['used_memory_human']}: hash, equality sets and two sorted indexes).",
        "",
        "### Commands each query ran",
        "",
        cmd_table,
        "",
        "## Strategy check: walk or sort",
        "",
        "For an equality filter plus `order_by`, typedredis estimates how many index entries a walk",
        "of the sorted index visits before it has the page (`(offset + limit) \u00d7 N / n` for a filter",
        "of n objects) and walks when that is at most `2 n`, otherwise it sorts the n filtered",
        "objects. The same page (`at` desc, offset 40, limit 20) for four kinds, each strategy",
        f"written as a raw script, {args['sweep_rounds']} interleaved rounds; in parentheses the",
        "server time. The last raw column is the walk with one `SMISMEMBER` per chunk instead of one",
        "`SISMEMBER` per entry, as typedredis does. This loop ran at another time than",
        "the main one (machine load differs), so compare within a row rather than with the table above.",
        "",
        sweep_table,
        "",
        *(
            [
                "## Where the estimate goes wrong",
                "",
                "The estimate assumes that the filtered objects are spread evenly over the sorted",
                "index. Two common query shapes break that assumption (these rows once took 4 s and",
                "3.6 s, blocking the server meanwhile, which is why typedredis now guards against both).",
                f"{args.get('check_rounds', 0)} interleaved rounds each (these calls are slow):",
                "",
                check_table,
                "",
                f"- **A filter correlated with the order.** Every `{OLD}` object is old, so a walk from",
                "  the newest end passes ~95 % of the index before its first hit. The estimate",
                f"  (`60 \u00d7 N / n` = {old_visits} visits) says walk; sorting the filtered set is",
                "  far cheaper. Raw picks the sort because it knows the data; typedredis does not, so",
                "  it gives the walk up after about `2 n` entries and sorts instead: it pays for both,",
                "  but never more than about twice a sort, where an unbounded walk costs the index.",
                "- **An equality filter plus a range on the order field.** typedredis walks (or sorts)",
                "  within the range itself (`ZRANGEBYLEX low high LIMIT 0 <chunk>`, continuing after the",
                "  last member seen, with `SMISMEMBER` of the equality set), without collecting the",
                "  range into a set first; what remains against raw is the fixed cost of its script.",
                *slow_note,
                "",
            ]
            if check_rows
            else []
        ),
        '## What "raw" does',
        "",
        "Raw is redis-py with hiredis calling a hand-written Lua script (one round trip, like",
        "typedredis) on typedredis' own keys: the data are written once, by `Event.save_all`, and",
        "raw reads that layout directly (`{page_event}:<gen>:s:at`, `…:i:kind:<msgpack value>`,",
        "`…:o:<pk>`). It returns the 20 objects' values, which the client decodes with",
        "`msgpack.unpackb` into plain dicts (datetimes rebuilt from typedredis' ext type), without",
        "validation: the same definition as the main benchmark's raw column. Raw knows the",
        "generation, the counts and hence the strategy in advance; typedredis finds them on the",
        "server (`HGET`, `SCARD`, `ZCARD`: three O(1) commands), so raw is slightly smarter there.",
        "",
        RAW_DEFINITIONS,
        "## Method",
        "",
        "- One private `redis-server` (`typedredis.testing.RedisServer`: unix socket, no persistence,",
        "  nice -10 where allowed), one redis-py connection each for raw and typedredis.",
        f"- {args['rounds']} rounds; every round runs each of the 8 calls once, raw and typedredis",
        "  alternating which goes first. Every call is timed alone with `time.perf_counter` (and",
        "  `time.process_time` for client CPU); `INFO commandstats` before and after it gives the",
        "  server time of its `EVALSHA` and the commands it ran. One untimed warm-up call per",
        "  variant loads the scripts.",
        "- Every page (both sides) is checked against the page computed in Python from the generated",
        "  data (ties in `at` broken by pk, as typedredis specifies).",
        "- The machine is a shared 2-core virtual machine whose speed drifts (±30 % between runs);",
        "  interleaving makes the drift hit both sides alike, so ratios are steadier than absolute",
        "  times. Read ratio differences below ~1.2\u00d7 on sub-millisecond queries as noise.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {mach['cpu']}, {mach['cores']} cores; memory {mach['memory']}; {mach['os']}",
        f"- load average (1, 5, 15 min) before, between and after the loops: {loads}",
        *[f"- {name}: {value}" for name, value in v.items()],
        f"- typedredis commit: {commit}",
        "",
        "## Re-running",
        "",
        "```sh",
        ". .venv/bin/activate",
        f"python benchmarks/page.py --n {n}          # rewrites this page and benchmarks/page-results.json",
        "python benchmarks/page.py --n 50000 --rounds 100   # a quick look (~30 s)",
        "```",
        "",
    ]
    return "\n".join(out)


def print_table(data: dict[str, Any]) -> None:
    main = {(s["key"], s["side"]): s for s in data["main"]}
    print(f"\nN = {data['args']['n']:,}   (median wall ms / server ms; ratio typedredis/raw)")
    for key in WORKLOADS:
        r, t = main.get((key, "raw")), main.get((key, "typedredis"))
        if r and t:
            print(
                f"  {key:<6} raw {r['wall_ms']:8.3f} / {r['server_ms'] or 0:7.3f}   typedredis "
                f"{t['wall_ms']:8.3f} / {t['server_ms'] or 0:7.3f}   {t['wall_ms'] / r['wall_ms']:.2f}{X}"
            )
    for s in data.get("sweep", []) + data.get("check", []):
        print(
            f"  {s['key']:<12} {s['side']:<22} {s['wall_ms']:8.3f} ms  server {s['server_ms'] or 0:8.3f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="objects (default 1000000)")
    parser.add_argument(
        "--rounds", type=int, default=300, help="interleaved rounds of the main loop (default 300)"
    )
    parser.add_argument(
        "--sweep-rounds", type=int, default=30, help="rounds of the strategy check (default 30; 0 skips it)"
    )
    parser.add_argument(
        "--check-rounds", type=int, default=5, help="rounds of the plan check (default 5; 0 skips it)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="redis-server binary (default: the newest on PATH)")
    parser.add_argument("--json", default=str(HERE / "page-results.json"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "explanation" / "benchmarks-page.md"))
    parser.add_argument("--no-docs", action="store_true", help="write only the JSON")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the page from a saved results file")
    args = parser.parse_args(argv)

    if args.render:
        data = json.loads(Path(args.render).read_text())
    else:
        started = time.monotonic()
        data = run(args)
        data["args"] = {k: getattr(args, k) for k in ("n", "rounds", "sweep_rounds", "check_rounds", "seed")}
        save_results(data, started, args.json)
    if not args.no_docs:
        write(args.out, render(data))
    print_table(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
