"""typedredis against the PostgreSQL it fronts ("Faster than the database it fronts").

    python benchmarks/postgres.py                 # the default sizes: 20 000 products, 200 000 orders
    python benchmarks/postgres.py --quick         # tiny sizes, one short repetition (the smoke test)
    python benchmarks/postgres.py --render benchmarks/postgres-results.json   # rewrite page + chart
    python benchmarks/postgres.py --profile       # also cProfile typedredis' side of every query

It starts a private ``redis-server`` (`typedredis.testing.RedisServer`) and a private PostgreSQL
(``initdb`` into a temporary directory, a unix socket there, no TCP; see postgres_server.py),
loads the same deterministic dataset into both (products and orders), checks that both sides
return the same objects for the same parameters, then measures:

- single-client latency of five queries (typedredis and PostgreSQL blocks interleaved, random
  parameters from a fixed seed, the same sequence on both sides), with client and server CPU;
- throughput at 1, 4 and 16 client processes, each with its own connections;
- the reload of the whole dataset: ``Product.reset`` + ``Order.reset`` of objects built from the
  rows, against PostgreSQL's table swap, with the longest stall another client saw meanwhile.

Two floors show what Redis itself costs, whatever a library does: query 3's ``HMGET``s alone, in a
bare script (next to its latency), and the reload's keys written again by plain pipelines,
without Lua, into database 1 of the same server (next to the reload).

It writes ``benchmarks/postgres-results.json``, the page ``docs/explanation/benchmarks-postgres.md``
and its chart ``docs/explanation/benchmarks-postgres.png``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import multiprocessing
import os
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import postgres_workload as w  # noqa: E402
from harness import (  # noqa: E402
    Timer,
    commandstats,
    git_commit,
    library_versions,
    loadavg,
    machine,
    percentile,
    progress,
    server_binary,
    server_cpu,
)
from postgres_report import render_all  # noqa: E402

RESULTS = HERE / "postgres-results.json"
PAGE = ROOT / "docs" / "explanation" / "benchmarks-postgres.md"
CHART = ROOT / "docs" / "explanation" / "benchmarks-postgres.png"

INTENDED = {  # the strategy query.lua should choose with the compound indexes declared
    ("page", "fetch"): "rank",
    ("page", "count"): "exact",
    ("newest", "fetch"): "rank",
    ("count", "count"): "exact",
    ("top", "fetch"): "rank",
}
PAGE_VARIANTS = {
    "postgres (window count)": "page_window",
    "postgres (2 statements, pipelined)": "page_pipeline",
}


# -- clocks and probes ------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """A process's CPU seconds (user + system) from /proc (PostgreSQL backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StallProbe:
    """`postgres_workload.stall_probe` in a spawned process while the ``with`` block runs:
    afterwards ``worst`` (its longest round trip, seconds) and ``probes`` (how many it made)."""

    def __init__(self, ctx: Any, side: str, target: Any) -> None:
        self.ctx, self.side, self.target = ctx, side, target

    def __enter__(self) -> StallProbe:
        ready, self.stop, self.box = self.ctx.Event(), self.ctx.Event(), self.ctx.Queue()
        args = (self.side, self.target, ready, self.stop, self.box)
        self.proc = self.ctx.Process(target=w.stall_probe, args=args, daemon=True)
        self.proc.start()
        if not ready.wait(60):
            raise SystemExit("the stall probe did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.worst, self.probes = self.box.get(timeout=60)
        self.proc.join(timeout=30)


def series_summary(lat: list[float], per_rep: list[list[float]], cpu: float, server: float) -> dict[str, Any]:
    n = len(lat)
    return {
        "calls": n,
        "median_us": statistics.median(lat) * 1e6,
        "p99_us": percentile(lat, 0.99) * 1e6,
        "mean_us": statistics.fmean(lat) * 1e6,
        "rep_medians_us": [statistics.median(r) * 1e6 for r in per_rep if r],
        "client_cpu_us": cpu / n * 1e6 if n else None,
        "server_cpu_us": server / n * 1e6 if n else None,
        "raw_us": [round(x * 1e6, 1) for x in lat],
    }


# -- the phases -------------------------------------------------------------------------------


def check_same(args: argparse.Namespace, sizes: w.Sizes, redis_side: Any, pg: Any) -> dict[str, Any]:
    """Both sides answer the same parameters with equal objects (and the page variants too)."""
    out: dict[str, Any] = {}
    for q in w.QUERIES:
        params = w.params_seq(q.key, f"{args.seed}:check:{q.key}", sizes, args.check)
        extra = {name: getattr(pg, fn) for name, fn in PAGE_VARIANTS.items()} if q.key == "page" else {}
        compared = nonempty = 0
        for p in params:
            expect = w.call_of(redis_side, q.key)(p)
            got = w.call_of(pg, q.key)(p)
            for name, value in [("postgres", got), *((n, f(p)) for n, f in extra.items())]:
                if dump(value) != dump(expect) or value != expect:
                    raise SystemExit(
                        f"MISMATCH {q.key}({p!r}): typedredis {short(expect)} != {name} {short(value)}"
                    )
            compared += 1
            nonempty += bool(expect[0] if q.key == "page" else expect)
        out[q.key] = {"compared": compared, "nonempty": nonempty, "variants": sorted(extra)}
        print(f"  check {q.key}: {compared} parameter sets, same objects on both sides", flush=True)
    return out


def dump(value: Any) -> Any:
    if isinstance(value, w.Model):
        return value.model_dump()
    if isinstance(value, (list, tuple)):
        return [dump(v) for v in value]
    return value


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 400 else text[:400] + "..."


def plans(redis_side: Any, pg: Any, sizes: w.Sizes, seed: int) -> dict[str, Any]:
    """typedredis' plan of each query (checked against INTENDED) and PostgreSQL's EXPLAIN."""
    import random

    rng = random.Random(f"{seed}:plans")
    p = {k: w.params_for(k, rng, sizes) for k in w.QUERY_KEYS}
    queries = {
        "page": w.redis_page_query(*p["page"]),
        "newest": w.redis_newest_query(p["newest"]),
        "count": w.redis_count_query(p["count"]),
        "top": w.redis_top_query(),
    }
    typed: dict[str, Any] = {"get": {"fetch": {"strategy": "plain: HMGET of one hash, HGET of gen"}}}
    unexpected = []
    for (key, action), intended in INTENDED.items():
        plan = queries[key].plan(action)
        plan["intended"] = intended
        typed.setdefault(key, {})[action] = plan
        flag = "" if plan["strategy"] == intended else f"   <-- UNEXPECTED: intended {intended}"
        if flag:
            unexpected.append(f"{key}/{action}: {plan['strategy']}")
        print(f"  typedredis plan {key}/{action}: {plan}{flag}", flush=True)
    explain: dict[str, list[str]] = {}
    args = {
        "get": (p["get"],),
        "page": {"c": p["page"][0], "a": p["page"][1], "b": p["page"][2]},
        "newest": (p["newest"],),
        "count": ("paid", p["count"]),
        "top": None,
    }
    for key, sql in w.SQL.items():
        cur = pg.conn.cursor()
        # a generic plan, as the prepared statements use after their first executions
        cur.execute("SET plan_cache_mode = force_generic_plan")
        name = f"explain_{key}"
        cur.execute(f"PREPARE {name} AS " + to_positional(sql))
        values = args[key]
        if isinstance(values, dict):
            values = tuple(values[k] for k in ("c", "a", "b"))
        placeholders = ", ".join(lit(v) for v in values or ())
        execute = f"EXECUTE {name}" + (f"({placeholders})" if values else "")
        explain[key] = [r[0] for r in cur.execute("EXPLAIN (COSTS OFF) " + execute).fetchall()]
        cur.execute(f"DEALLOCATE {name}")
        cur.execute("RESET plan_cache_mode")
    return {"typedredis": typed, "postgres": explain, "params": repr(p), "unexpected": unexpected}


def to_positional(sql: str) -> str:
    """psycopg's %s / %(name)s placeholders as $n (for PREPARE)."""
    for i, name in enumerate(("c", "a", "b"), 1):
        sql = sql.replace(f"%({name})s", f"${i}")
    n = 0
    while "%s" in sql:
        n += 1
        sql = sql.replace("%s", f"${n}", 1)
    return sql


def lit(v: Any) -> str:
    return str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"


def floors(redis_client: Any, pg: Any) -> dict[str, Any]:
    """The bare calls the sides are built on, for the get-by-pk comparison."""
    spec = w.Product.spec()
    gen = int(redis_client.hget(spec.keys.meta, "gen"))
    stored = list(spec.stored)
    cur = pg.conn.cursor()

    def plain_get(pk: int) -> Any:
        pipe = redis_client.pipeline(transaction=False)
        pipe.hmget(spec.keys.object(gen, pk), stored)
        pipe.hget(spec.keys.meta, "gen")
        return pipe.execute()
    return {
        "redis-py PING": lambda pk: redis_client.ping(),
        "redis-py HGETALL of the object's hash": lambda pk: redis_client.hgetall(spec.keys.object(gen, pk)),
        w.PLAIN_GET_FLOOR: plain_get,
        "psycopg SELECT 1": lambda pk: cur.execute("SELECT 1", prepare=True).fetchall(),
        "psycopg SELECT by id, tuple (no model)": lambda pk: cur.execute(
            w.SQL["get"], (pk,), prepare=True
        ).fetchall(),
    }


FETCH_SCRIPT = """
-- KEYS[1] = the objects' key prefix ({K}:<gen>:o:); ARGV = nf, nf field names, then the pks.
-- Returns pack_rows' layout, {pk, value1, ..., valuenf, pk, ...}: only the HMGETs and the reply.
local nf = tonumber(ARGV[1])
local fields = {unpack(ARGV, 2, 1 + nf)}
local out, n = {}, 0
for i = 2 + nf, #ARGV do
  local values = redis.call('HMGET', KEYS[1] .. ARGV[i], unpack(fields))
  n = n + 1
  out[n] = tonumber(ARGV[i])
  for f = 1, nf do
    n = n + 1
    out[n] = values[f] or false
  end
end
return out
"""


def newest_floor(redis_client: Any, sizes: w.Sizes) -> Any:
    """Query 3's floor on Redis: a bare script that only reads each of the customer's newest
    orders with an ``HMGET`` (their pks found beforehand, outside the clock)."""
    spec = w.Order.spec()
    gen = int(redis_client.hget(spec.keys.meta, "gen"))
    prefix = spec.keys.object(gen, 0)[:-1]
    stored = list(spec.stored)
    pks = {}
    for i in range(sizes.customers):
        customer = w.customer_name(i)
        pks[customer] = w.redis_newest_query(customer).pks()
    script = redis_client.register_script(FETCH_SCRIPT)

    def fetch(customer: str) -> Any:
        return script(keys=[prefix], args=[len(stored), *stored, *pks[customer]])

    for customer in list(pks)[:20]:  # the same rows as typedredis reads
        rows = fetch(customer)
        assert rows[:: 1 + len(stored)] == pks[customer], customer
    return fetch


def latency(
    args: argparse.Namespace, sizes: w.Sizes, redis_side: Any, pg: Any, redis_client: Any, pg_pid: int
) -> dict[str, Any]:
    """Single-client latency: per repetition, per query, a block of calls on each side (the
    order of the sides alternates), every call timed on its own."""
    floor_fns = floors(redis_client, pg)
    fetch_floor = newest_floor(redis_client, sizes)
    on_redis, on_pg = (lambda: server_cpu(redis_client)), (lambda: proc_cpu(pg_pid))
    lat: dict[str, dict[str, list[list[float]]]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    started = time.monotonic()
    for rep in range(args.repeat):
        for qi, q in enumerate((*w.QUERIES, None)):
            key = "floors" if q is None else q.key
            params = w.params_seq(
                "get" if q is None else key, f"{args.seed}:lat:{key}:{rep}", sizes, args.calls
            )
            if q is None:
                entries = list(floor_fns.items())
            else:
                entries = [("typedredis", w.call_of(redis_side, key)), ("postgres", w.call_of(pg, key))]
                if key == "page":
                    entries += [(name, getattr(pg, fn)) for name, fn in PAGE_VARIANTS.items()]
                if key == "newest":
                    entries.append((w.NEWEST_FLOOR, fetch_floor))
            for name, _ in entries:  # the canonical order, whichever side goes first
                lat.setdefault(key, {}).setdefault(name, [])
            if (rep + qi) % 2:
                entries.reverse()
            for name, fn in entries:
                times: list[float] = []
                perf = time.perf_counter
                with Timer(server=on_redis if name.startswith(("typedredis", "redis")) else on_pg) as clock:
                    for p in params:
                        t0 = perf()
                        fn(p)
                        times.append(perf() - t0)
                lat[key][name].append(times)
                acc = cpu.setdefault((key, name), [0.0, 0.0])
                acc[0] += clock.client_cpu
                acc[1] += clock.server_cpu
        progress("latency", rep + 1, args.repeat, started)
    out: dict[str, Any] = {}
    for key, sides in lat.items():
        for name, reps in sides.items():
            flat = [x for r in reps for x in r]
            c, s = cpu[(key, name)]
            out.setdefault(key, {})[name] = series_summary(flat, reps, c, s)
    return out


def throughput(
    args: argparse.Namespace, sizes: w.Sizes, redis_url: str, pg_conninfo: dict[str, Any]
) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    most = max(args.clients)
    pipes, procs = [], []
    for i in range(most):
        here, there = ctx.Pipe()
        proc = ctx.Process(target=w.pool_worker, args=(i, redis_url, pg_conninfo, sizes, there), daemon=True)
        proc.start()
        pipes.append(here)
        procs.append(proc)
    for here in pipes:
        if not here.poll(120):
            raise SystemExit("a throughput client process did not start")
        reply = here.recv()
        if reply[0] != "ready":
            raise SystemExit(f"a throughput client process failed: {reply}")
    results: dict[str, Any] = {}
    started = time.monotonic()
    try:
        for rnd in range(args.tp_rounds):
            for ci, clients in enumerate(args.clients):
                for qi, q in enumerate(w.QUERIES):
                    sides = ["typedredis", "postgres"]
                    if (rnd + ci + qi) % 2:
                        sides.reverse()
                    for side in sides:
                        start_at = time.time() + 0.1 + 0.03 * clients
                        seed = f"{args.seed}:tp:{q.key}:{rnd}"
                        for here in pipes[:clients]:
                            here.send((side, q.key, seed, start_at, args.duration))
                        replies = [here.recv() for here in pipes[:clients]]
                        bad = [r for r in replies if r[0] != "ok"]
                        if bad:
                            raise SystemExit(f"throughput {side} {q.key} x{clients}: {bad[0]}")
                        calls = sum(r[1] for r in replies)
                        span = max(r[2] for r in replies)
                        entry = (
                            results.setdefault(q.key, {})
                            .setdefault(side, {})
                            .setdefault(str(clients), {"rounds": [], "calls": [], "worst_call_ms": []})
                        )
                        entry["rounds"].append(calls / span)
                        entry["calls"].append(calls)
                        entry["worst_call_ms"].append(max(r[3] for r in replies) * 1e3)
            progress("throughput", rnd + 1, args.tp_rounds, started)
    finally:
        for here in pipes:
            here.send(None)
        for proc in procs:
            proc.join(timeout=30)
    for sides_ in results.values():
        for per in sides_.values():
            for entry in per.values():
                entry["ops_s"] = statistics.median(entry["rounds"])
    return results


def stored_layout(redis_client: Any) -> list[tuple[str, bytes, list[Any]]]:
    """Every key of both models' current generation, as typedredis' reset wrote it: (type,
    key, content) with a hash's field-value pairs, a sorted set's (member, score) pairs in
    order, a set's members."""
    out: list[tuple[str, bytes, list[Any]]] = []
    for model in (w.Product, w.Order):
        keys = model.spec().keys
        generation = keys.generation(int(redis_client.hget(keys.meta, "gen")))
        names = list(redis_client.scan_iter(match=generation + b"*", count=10_000))
        pipe = redis_client.pipeline(transaction=False)
        for name in names:
            pipe.type(name)
        kinds = [k.decode() if isinstance(k, bytes) else k for k in pipe.execute()]
        read = {
            "hash": lambda p, k: p.hgetall(k),
            "zset": lambda p, k: p.zrange(k, 0, -1, withscores=True),
            "set": lambda p, k: p.smembers(k),
        }
        for start in range(0, len(names), 1000):
            part = list(zip(kinds[start : start + 1000], names[start : start + 1000], strict=True))
            for kind, name in part:
                read[kind](pipe, name)
            for (kind, name), value in zip(part, pipe.execute(), strict=True):
                items = [x for pair in value.items() for x in pair] if kind == "hash" else list(value)
                out.append((kind, name, items))
    return out


def shuffled(layout: list[tuple[str, bytes, list[Any]]], seed: int) -> list[tuple[str, bytes, list[Any]]]:
    """``layout`` with the members of every set and sorted set in random order."""
    rnd = random.Random(seed)
    out = []
    for kind, name, items in layout:
        if kind != "hash":
            items = items[:]
            rnd.shuffle(items)
        out.append((kind, name, items))
    return out


def write_layout(client: Any, layout: list[tuple[str, bytes, list[Any]]]) -> None:
    """``layout`` written by plain redis-py pipelines of 1 000 commands, without Lua: an ``HSET``
    per hash, the members of each sorted set and set gathered 1 000 per ``ZADD`` / ``SADD``, in
    the layout's order. Not atomic: a floor."""
    pipe = client.pipeline(transaction=False)
    queued = 0
    for kind, name, items in layout:
        if kind == "hash":
            pipe.execute_command("HSET", name, *items)
            queued += 1
            continue
        for start in range(0, len(items), 1000):
            part = items[start : start + 1000]
            if kind == "zset":
                pipe.execute_command("ZADD", name, *(x for member, score in part for x in (score, member)))
            else:
                pipe.execute_command("SADD", name, *part)
            queued += 1
        if queued >= 1000:
            pipe.execute()
            queued = 0
    pipe.execute()


def reload(
    args: argparse.Namespace,
    products: list[tuple[Any, ...]],
    orders: list[tuple[Any, ...]],
    redis_client: Any,
    redis_socket: str,
    pg_conn: Any,
    pg_conninfo: dict[str, Any],
) -> dict[str, Any]:
    """The reload of the whole dataset, both ways, interleaved, each with a stall probe running."""
    ctx = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {
        "typedredis": {"seconds": [], "client_cpu_s": [], "server_cpu_s": [], "stall_ms": [], "probes": []},
        "postgres": {"seconds": [], "client_cpu_s": [], "server_cpu_s": [], "stall_ms": [], "probes": []},
        "build_only_s": [],
        "select_all_s": [],
    }
    pg_pid = int(pg_conn.execute("SELECT pg_backend_pid()").fetchone()[0])
    targets = {"typedredis": redis_socket, "postgres": pg_conninfo}
    cpu_of = {"typedredis": lambda: server_cpu(redis_client), "postgres": lambda: proc_cpu(pg_pid)}
    # the probes' longest round trip with nothing else running: the machine's own noise
    idle_for = 0.5 if args.quick else 3.0
    out["args_idle_s"] = idle_for
    for side in ("typedredis", "postgres"):
        with StallProbe(ctx, side, targets[side]) as probe:
            time.sleep(idle_for)
        out[side]["idle_stall_ms"] = probe.worst * 1e3
    # the floors: what the reset wrote, written again into database 1 without Lua
    layout = stored_layout(redis_client)
    floor_client = redis.Redis(unix_socket_path=redis_socket, db=1)
    out["floors"] = {order: {"seconds": [], "server_cpu_s": []} for order in w.RELOAD_FLOORS}
    out["floor_keys"] = len(layout)
    for rep in range(args.reload_repeat):
        sides = ["typedredis", "postgres"] if rep % 2 == 0 else ["postgres", "typedredis"]
        for side in sides:
            with StallProbe(ctx, side, targets[side]) as probe:
                time.sleep(0.2)
                if side == "typedredis":  # every server command of over 1 ms is logged
                    redis_client.config_set("slowlog-log-slower-than", 1000)
                    redis_client.config_set("slowlog-max-len", 100_000)
                    redis_client.slowlog_reset()
                with Timer(server=cpu_of[side]) as clock:
                    if side == "typedredis":
                        w.reload_redis(products, orders)
                    else:
                        w.swap_postgres(pg_conn, products, orders)
                time.sleep(0.2)
            entry = out[side]
            if side == "typedredis":
                slow = redis_client.slowlog_get(100_000)
                longest = max(slow, key=lambda e: e["duration"], default=None)
                entry.setdefault("slowest_command_ms", []).append(
                    longest["duration"] / 1e3 if longest else 0.0
                )
                entry.setdefault("commands_over_1ms", []).append(len(slow))
            entry["seconds"].append(clock.seconds)
            entry["client_cpu_s"].append(clock.client_cpu)
            entry["server_cpu_s"].append(clock.server_cpu)
            entry["stall_ms"].append(probe.worst * 1e3)
            entry["probes"].append(probe.probes)
            print(
                f"  reload {rep + 1}/{args.reload_repeat} {side}: {clock.seconds:.2f} s "
                f"(client CPU {clock.client_cpu:.2f} s, server CPU {clock.server_cpu:.2f} s, "
                f"longest stall {probe.worst * 1e3:.1f} ms)",
                flush=True,
            )
        for order in w.RELOAD_FLOORS:
            floor_client.flushdb()
            written = layout if order == "sorted" else shuffled(layout, args.seed + rep)
            gc.collect()
            with Timer(server=cpu_of["typedredis"]) as clock:
                write_layout(floor_client, written)
            assert floor_client.dbsize() == len(layout), "the floor wrote other keys than the reset"
            out["floors"][order]["seconds"].append(clock.seconds)
            out["floors"][order]["server_cpu_s"].append(clock.server_cpu)
            done = f"{rep + 1}/{args.reload_repeat}"
            print(f"  reload {done} floor ({order}): {clock.seconds:.2f} s", flush=True)
        floor_client.flushdb()
        gc.collect()
        t0 = time.perf_counter()
        w.build_only(products, orders)
        out["build_only_s"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        cur = pg_conn.cursor()
        cur.execute(f"SELECT {w.PRODUCT_COLUMNS} FROM product ORDER BY id")
        n = len(cur.fetchall())
        cur.execute(f"SELECT {w.ORDER_COLUMNS} FROM orders ORDER BY id")
        n += len(cur.fetchall())
        out["select_all_s"].append(time.perf_counter() - t0)
        assert n == len(products) + len(orders)
    floor_client.close()
    for side in ("typedredis", "postgres"):
        out[side]["median_s"] = statistics.median(out[side]["seconds"])
    return out


def profile(args: argparse.Namespace, sizes: w.Sizes, redis_side: Any, redis_client: Any) -> dict[str, Any]:
    """cProfile of typedredis' side of every query, and its server time (INFO commandstats)."""
    out: dict[str, Any] = {}
    for q in w.QUERIES:
        params = w.params_seq(q.key, f"{args.seed}:profile:{q.key}", sizes, args.profile_calls)
        fn = w.call_of(redis_side, q.key)
        redis_client.config_resetstat()
        t0 = time.perf_counter()
        c0 = time.process_time()
        for p in params:
            fn(p)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        stats = commandstats(redis_client)
        # the scripts' own time, or, as a get runs no script, its HMGET's and HGET's
        on_server = ["evalsha"] if "evalsha" in stats else ["hmget", "hget"]
        commands = {
            k: round(calls / len(params), 2)
            for k, (calls, _) in stats.items()
            if not k.startswith(("config", "info"))
        }
        prof = cProfile.Profile()
        prof.enable()
        for p in params:
            fn(p)
        prof.disable()
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(18)
        out[q.key] = {
            "calls": len(params),
            "wall_us": wall / len(params) * 1e6,
            "client_cpu_us": cpu / len(params) * 1e6,
            "evalsha_per_call": round(stats.get("evalsha", (0, 0))[0] / len(params), 2),
            "server_us_per_call": sum(stats.get(k, (0, 0))[1] for k in on_server) / len(params),
            "commands_per_call": commands,
            "top": text.getvalue(),
        }
        print(
            f"\n== profile {q.key}: wall {out[q.key]['wall_us']:.0f} us, client CPU "
            f"{out[q.key]['client_cpu_us']:.0f} us, server {out[q.key]['server_us_per_call']:.0f} us/call"
        )
        print(text.getvalue())
    return out


def reload_profile(products: list[tuple[Any, ...]], orders: list[tuple[Any, ...]], redis_client: Any) -> str:
    prof = cProfile.Profile()
    redis_client.config_resetstat()
    prof.enable()
    w.reload_redis(products, orders)
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(20)
    stats = redis_client.info("commandstats")
    lines = [
        f"{k}: calls={v['calls']} usec={v['usec']} usec_per_call={v['usec_per_call']}"
        for k, v in stats.items()
    ]
    report = text.getvalue() + "\n" + "\n".join(lines)
    print("\n== profile reload\n" + report)
    return report


# -- driver -----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg
    from postgres_server import PostgresServer

    from typedredis.testing import RedisServer

    sizes = w.Sizes(args.products, args.orders, args.customers)
    loads = [loadavg()]
    t0 = time.perf_counter()
    products = w.product_rows(sizes, args.seed)
    orders = w.order_rows(sizes, args.seed)
    generated_s = time.perf_counter() - t0
    binary = server_binary(args.server)
    data: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": "python benchmarks/postgres.py " + " ".join(args.argv),
        "args": {k: v for k, v in vars(args).items() if k not in ("argv",)},
        "sizes": {"products": sizes.products, "orders": sizes.orders, "customers": sizes.customers},
        "machine": machine(),
        "commit": git_commit(),
    }
    print(f"redis-server: {binary}; {sizes}", flush=True)
    with RedisServer(binary) as rs, PostgresServer() as pgs:
        redis_client = rs.client()
        pg_conn = psycopg.connect(**pgs.conninfo(), autocommit=True)
        data["versions"] = {
            **library_versions({"server_version": rs.version, "server_binary": binary}),
            "PostgreSQL": pgs.version,
            "psycopg": psycopg.__version__ + f" ({psycopg.pq.__impl__} implementation, libpq "
            f"{psycopg.pq.version() // 10000}.{psycopg.pq.version() % 100})",
        }
        data["pg_settings"] = {
            name: pg_conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "shared_buffers",
                "work_mem",
                "jit",
            )
        }
        print(f"postgres: {pgs.version} in {pgs.directory} (pid {pgs.pid})", flush=True)
        t0 = time.perf_counter()
        w.load_postgres(pg_conn, products, orders)
        pg_load = time.perf_counter() - t0
        redis_side = w.RedisSide(rs.url)
        t0 = time.perf_counter()
        w.reload_redis(products, orders)
        redis_load = time.perf_counter() - t0
        pg_size = pg_conn.execute(
            "SELECT pg_total_relation_size('product') + pg_total_relation_size('orders')"
        ).fetchone()[0]  # type: ignore[index]
        data["load"] = {
            "rows_generated_s": generated_s,
            "postgres_first_load_s": pg_load,
            "typedredis_first_load_s": redis_load,
            "postgres_bytes": int(pg_size),
            "redis_used_memory": int(redis_client.info("memory")["used_memory"]),
        }
        print(f"  loaded: postgres {pg_load:.2f} s, typedredis {redis_load:.2f} s", flush=True)
        pg = w.PgSide(pgs.conninfo())
        pg_pid = pg.backend_pid()
        data["plans"] = plans(redis_side, pg, sizes, args.seed)
        data["checks"] = check_same(args, sizes, redis_side, pg)
        data["latency"] = latency(args, sizes, redis_side, pg, redis_client, pg_pid)
        loads.append(loadavg())
        if args.profile:
            data["profile"] = profile(args, sizes, redis_side, redis_client)
        if args.duration > 0 and args.clients:
            data["throughput"] = throughput(args, sizes, rs.url, pgs.conninfo())
            loads.append(loadavg())
        if args.reload_repeat > 0:
            data["reload"] = reload(
                args, products, orders, redis_client, str(rs.socket), pg_conn, pgs.conninfo()
            )
            loads.append(loadavg())
        if args.profile:
            data.setdefault("profile", {})["reload"] = reload_profile(products, orders, redis_client)
        pg.close()
        pg_conn.close()
        redis_side.close()
        redis_client.close()
    data["loadavg"] = loads
    return data


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=10, help="latency repetitions (default 10)")
    parser.add_argument("--calls", type=int, default=200, help="calls per query, side and repetition (200)")
    parser.add_argument("--check", type=int, default=100, help="parameter sets cross-checked per query (100)")
    parser.add_argument(
        "--clients", default="1,4,16", help="client processes of the throughput runs (default 1,4,16)"
    )
    parser.add_argument("--duration", type=float, default=2.0, help="seconds per throughput run (2)")
    parser.add_argument("--tp-rounds", type=int, default=5, help="throughput rounds (default 5)")
    parser.add_argument("--reload-repeat", type=int, default=3, help="reloads per side (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="redis-server binary (default: the newest on PATH)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one short repetition (smoke test)")
    parser.add_argument("--profile", action="store_true", help="cProfile typedredis' side of each query")
    parser.add_argument("--profile-calls", type=int, default=300)
    parser.add_argument("--json", default=str(RESULTS))
    parser.add_argument("--out", default=str(PAGE), help="the markdown page")
    parser.add_argument("--chart", default=str(CHART), help="the PNG chart")
    parser.add_argument("--no-docs", action="store_true", help="write only the JSON")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the page and chart from a saved run")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.quick:
        given = set(args.argv)
        for flag, value in (
            ("--products", 3000),
            ("--orders", 3000),
            ("--customers", 60),
            ("--repeat", 1),
            ("--calls", 5),
            ("--check", 15),
            ("--clients", "1,2"),
            ("--duration", 0.2),
            ("--tp-rounds", 1),
            ("--reload-repeat", 1),
            ("--profile-calls", 20),
        ):
            if flag not in given:
                setattr(args, flag.lstrip("-").replace("-", "_"), value)
    args.clients = [int(c) for c in str(args.clients).split(",") if c.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        data = json.loads(Path(args.render).read_text())
        render_all(data, Path(args.out), Path(args.chart))
        return 0
    data = run(args)
    Path(args.json).write_text(json.dumps(data, indent=1, default=str) + "\n")
    print(f"wrote {args.json}")
    if not args.no_docs:
        render_all(data, Path(args.out), Path(args.chart))
    if data["plans"]["unexpected"]:
        print(f"typedredis chose unexpected strategies: {data['plans']['unexpected']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
