"""The typedredis benchmark: the same workloads, in one run, on one private redis-server, against
raw redis-py (the physical limit), typedredis and the peers (walrus, rom, IndexedRedis, redis-om).

    python benchmarks/run.py --n 100000 --repeat 5        # the full run: table, chart, JSON
    python benchmarks/run.py --n 2000 --repeat 1 --no-peers  # the smoke size (what CI runs)
    python benchmarks/run.py --setup-peers                 # create benchmarks/.venv-peers first

This driver runs in the project's environment. It starts a private ``redis-server`` (unix socket,
no persistence) with `typedredis.testing.RedisServer`, and for every repetition runs every library
in a fresh worker process (`benchmarks/worker.py`): ``raw`` and ``typedredis`` with this Python,
the peers with the Python of ``benchmarks/.venv-peers``, so that the peers' pins never touch the
project. Libraries are interleaved within each repetition (and the order rotates between
repetitions) so that machine noise hits all of them; the server is flushed before every worker.
It writes `docs/explanation/benchmarks.md`, the chart `docs/explanation/benchmarks.png` and the
raw numbers `benchmarks/results.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    MICRO,
    X,
    fmt,
    fmt_ratio,
    git_commit,
    grouped_bars,
    library_versions,
    loadavg,
    machine,
    private_server,
    pyplot,
    rotated,
    save_figure,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "worker.py"
PEERS_VENV = HERE / ".venv-peers"
PEERS_REQUIREMENTS = HERE / "requirements-peers.txt"

LOCAL = ("raw", "typedredis")
PEERS = ("IndexedRedis", "rom", "walrus", "redis-om")
ALL_LIBS = LOCAL + PEERS


@dataclass(frozen=True)
class Workload:
    key: str
    label: str
    unit: str
    scale: float  # seconds (or bytes) -> unit
    metric: str = "seconds"


WORKLOADS = (
    Workload("insert", "bulk insert of N objects", "s", 1.0),
    Workload("get", "1 000 single gets by pk", "ms", 1e3),
    Workload("eq", "equality query (~1 %), per query", "ms", 1e3),
    Workload("and_not", "two-field AND + NOT-equals (~2.5 %), per query", "ms", 1e3),
    Workload("count", "count of a two-field AND, per count", MICRO + "s", 1e6),
    Workload("update", "update an indexed field of 1 000 objects (1 000 saves)", "ms", 1e3),
    Workload("reset", "reset: replace all N objects", "s", 1.0),
    Workload("reset", "longest PING stall during the reset", "ms", 1e3, "ping_stall"),
    Workload("reset", "longest server command during the reset (SLOWLOG)", "ms", 1e3, "longest_command"),
    Workload("memory", "Redis memory per object", "B", 1.0, "bytes_per_object"),
)
QUERY_KEYS = ("eq", "and_not", "count")


# -- running ----------------------------------------------------------------------------------


def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def setup_peers() -> int:
    """Create ``benchmarks/.venv-peers`` and install the peers (and redis-py + hiredis) into it."""
    if not peers_python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    cmd = [str(peers_python()), "-m", "pip", "install", "-q", "-r", str(PEERS_REQUIREMENTS)]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd).returncode


def python_for(lib: str) -> Path:
    return Path(sys.executable) if lib in LOCAL else peers_python()


def run_worker(lib: str, socket: Path, args: argparse.Namespace, rep: int) -> dict[str, Any]:
    cmd = [
        str(python_for(lib)),
        str(WORKER),
        "--lib",
        lib,
        "--socket",
        str(socket),
        "--n",
        str(args.n),
        "--seed",
        str(1 + rep),
        "--query-budget",
        str(args.query_budget),
    ]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"worker exited with {proc.returncode}: {tail[:300]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if "error" in result and args.verbose:
        print(proc.stderr[-3000:], file=sys.stderr)
    result["wall"] = time.monotonic() - started
    return result


def run_all(args: argparse.Namespace, libs: list[str]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {lib: [] for lib in libs}
    loads: list[str] = [loadavg()]
    commits = [git_commit()]
    with private_server(args.server) as (server, client, record):
        for rep in range(args.repeat):
            for lib in rotated(libs, rep):
                if len(runs[lib]) >= repeats_for(lib, args):
                    continue
                client.flushall(asynchronous=False)
                client.config_resetstat()
                result = run_worker(lib, server.socket, args, rep)
                runs[lib].append(result)
                status = result.get("error") or f"{result.get('wall', 0):.1f} s"
                print(f"[rep {rep + 1}/{args.repeat}] {lib:<13} {status}  (load {loadavg()})", flush=True)
            loads.append(loadavg())
    commits.append(git_commit())
    return {"runs": runs, **record, "loadavg": loads, "commits": commits}


def repeats_for(lib: str, args: argparse.Namespace) -> int:
    limits = dict(item.split("=", 1) for item in args.peer_repeat.split(",") if item)
    if lib in limits:
        return min(args.repeat, int(limits[lib]))
    return args.repeat


# -- summarising ------------------------------------------------------------------------------


def value(run: dict[str, Any], key: str, metric: str) -> float | None:
    entry = run.get(key)
    if not isinstance(entry, dict) or metric not in entry:
        return None
    return float(entry[metric])


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per library and (workload key, metric): median, min, max and count over the repetitions."""
    keys = {(w.key, w.metric) for w in WORKLOADS}
    extra = {
        ("pipe:insert", "seconds"),
        ("hash:memory", "bytes_per_object"),
        ("pyd:get", "seconds"),
        ("pyd:eq", "seconds"),
        ("pyd:and_not", "seconds"),
    }
    keys |= extra
    keys |= {(w.key, cpu) for w in WORKLOADS if w.metric == "seconds" for cpu in ("client_cpu", "server_cpu")}
    keys |= {(k, cpu) for k, m in extra if m == "seconds" for cpu in ("client_cpu", "server_cpu")}
    keys |= {(w.key, "ops") for w in WORKLOADS if w.metric == "seconds"}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for lib, results in runs.items():
        good = [r for r in results if "error" not in r]
        out[lib] = {}
        for key, metric in keys:
            values = [v for r in good if (v := value(r, key, metric)) is not None]
            if values:
                out[lib][f"{key}/{metric}"] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                    "n": len(values),
                }
    return out


def cell(summary: dict[str, Any], lib: str, w: Workload) -> float | None:
    entry = summary.get(lib, {}).get(f"{w.key}/{w.metric}")
    return None if entry is None else entry["median"]


def why_missing(runs: dict[str, list[dict[str, Any]]], lib: str, w: Workload) -> str:
    results = runs.get(lib, [])
    if not results:
        return "not run"
    errors = [r["error"] for r in results if "error" in r]
    if errors and len(errors) == len(results):
        return "failed"
    for r in results:
        reason = r.get("unsupported", {}).get(w.key)
        if reason:
            return reason.split(" (")[0]
    return "—"


# -- reporting --------------------------------------------------------------------------------


def versions(data: dict[str, Any]) -> dict[str, str]:
    out = library_versions(data)
    commits = data.get("commits") or []
    if commits:
        first, last = commits[0], commits[-1]
        out["typedredis"] += (
            f" (commit {first})"
            if first == last
            else (f" (commits {first} to {last}: the library changed during the run)")
        )
    if peers_python().exists() and any(lib in data["runs"] for lib in PEERS):
        code = (
            "import json, platform\nfrom importlib.metadata import version\n"
            "out = {'Python': platform.python_version()}\n"
            "for n in ('redis', 'hiredis', 'walrus', 'rom', 'IndexedRedis', 'redis-om', 'pydantic'):\n"
            "    try: out[n] = version(n)\n"
            "    except Exception: out[n] = 'not installed'\n"
            "print(json.dumps(out))"
        )
        proc = subprocess.run([str(peers_python()), "-c", code], capture_output=True, text=True)
        if proc.returncode == 0:
            peers = json.loads(proc.stdout)
            out["peers' venv"] = (
                f"Python {peers['Python']}, redis-py {peers['redis']}, hiredis {peers['hiredis']}, "
                f"pydantic {peers['pydantic']} (redis-om)"
            )
            for name in ("walrus", "rom", "IndexedRedis", "redis-om"):
                out[name] = peers[name]
    return out


def targets(summary: dict[str, Any], libs: list[str]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 4."""

    def m(lib: str, key: str, metric: str = "seconds") -> float | None:
        entry = summary.get(lib, {}).get(f"{key}/{metric}")
        return None if entry is None else entry["median"]

    rows: list[tuple[str, str, str]] = []

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else "**met**" if ok else "**missed**"

    for key, label in (("insert", "bulk insert"), ("eq", "equality query"), ("and_not", "AND + NOT query")):
        t, r = m("typedredis", key), m("raw", key)
        if t and r:
            rows.append((f"{label} within 1.5{X} of raw", f"{t / r:.2f}{X}", verdict(t / r <= 1.5)))
    # a peer that cannot query on plain Redis (redis-om) keeps no index, so its insert does less work
    peers = [p for p in libs if p in PEERS and m(p, "eq") is not None]
    for key, label, need in (
        ("insert", "bulk insert", 10),
        ("eq", "equality query", 2),
        ("and_not", "AND + NOT query", 2),
        ("count", "count", 2),
    ):
        t = m("typedredis", key)
        candidates = [(m(p, key), p) for p in peers]
        candidates = [(v, p) for v, p in candidates if v]
        if t and candidates:
            best, name = min(candidates)
            rows.append(
                (
                    f"{label} ≥ {need}{X} faster than the fastest peer",
                    f"{best / t:.1f}{X} faster than {name}",
                    verdict(best / t >= need),
                )
            )
    t, r = m("typedredis", "count"), m("raw", "count")
    if t and r:
        rows.append((f"count() within 1.2{X} of a bare SINTERCARD", f"{t / r:.2f}{X}", verdict(t / r <= 1.2)))
    t, r = m("typedredis", "reset"), m("raw", "reset")
    if t and r:
        rows.append((f"reset within 1.5{X} of raw", f"{t / r:.2f}{X}", verdict(t / r <= 1.5)))
    worst = summary.get("typedredis", {}).get("reset/ping_stall")
    raw_stall = m("raw", "reset", "ping_stall")
    if worst:
        rows.append(
            (
                "no PING stall over 5 ms during the reset",
                f"median {worst['median'] * 1e3:.1f} ms, worst {worst['max'] * 1e3:.1f} ms"
                + (f" (raw redis-py's reset: median {raw_stall * 1e3:.1f} ms)" if raw_stall else ""),
                verdict(worst["max"] <= 0.005),
            )
        )
    t, h = m("typedredis", "memory", "bytes_per_object"), m("raw", "hash:memory", "bytes_per_object")
    r = m("raw", "memory", "bytes_per_object")
    if t and h:
        rows.append(
            (
                f"memory per object ≤ 1.2{X} a plain hash of the same msgpack fields",
                f"{t:.0f} B vs {h:.0f} B = {t / h:.2f}{X}"
                + (f" (raw redis-py with the same index sets: {r:.0f} B)" if r else ""),
                verdict(t / h <= 1.2),
            )
        )
    return rows


RAW_DEFINITIONS = """\
| workload | what "raw" does (redis-py, msgpack values, decoded to plain `dict`s, no validation) |
|---|---|
| bulk insert | one `INCRBY` for N primary keys, then a minimal Lua script per 250 objects (one `HSET` of the 5 msgpack fields per object, the index members gathered per set and added with one `SADD` per set, one `SADD` of the pks to the all-set), 32 `EVALSHA` calls pipelined per round trip (typedredis' `save_all` pipelines 4, so that other clients never wait behind more). The same data written with plain pipelining (no Lua: per 1 000 objects one round trip of one `HSET` per object and one `SADD` per touched index set) is shown below the table for comparison; the table's raw column is the Lua variant. |
| 1 000 gets | 1 000 times `HMGET key f1..f5` (one round trip each), values msgpack-decoded |
| equality query | one `EVALSHA` of a 15-line script: `SINTER` of the index set (= its members), then `HMGET` of every hit; the flat reply is decoded into dicts. No sorting. |
| AND + NOT query | the same script: `SINTERSTORE tmp a b`, `SDIFF tmp c`, `DEL tmp`, then `HMGET` of every hit |
| count | a bare `SINTERCARD 2 a b` (one command, no script) |
| update | per object one pipelined round trip: `HSET` of the field, `SREM` from the old index set (the value the client holds), `SADD` to the new one; not atomic, no read of the stored value |
| reset | stage the new dataset under a new key generation with the bulk-insert code, `SET` the generation pointer, then `UNLINK` the old keys (known to the client) 1 000 keys per command, 10 commands per round trip |
| memory | `used_memory` delta of the raw dataset (hashes + index sets + all-set) / N; the memory target compares with a plain hash of the same msgpack fields (hashes only) |
"""  # noqa: E501

PEER_DEFINITIONS = """\
| library | how each workload is written (the way its documentation suggests) |
|---|---|
| typedredis | `Item.save_all(objs)`, `Item.get(pk)`, `Item.query(Item.f.category == c).all()`, `Item.query(f.status == s, f.region == r, f.category != c).all()`, `.count()`, `obj.category = x; obj.save()`, `Item.reset(objs)` |
| IndexedRedis | `Item.saver.save(objs)` (one MULTI pipeline, one `INCR` round trip per object for its id), `objects.get(pk)`, `objects.filter(...).all()`, `filter(..., category__ne=c)`, `.count()`, `obj.save()`, `Item.reset(objs)` (`KEYS` + `DEL` + inserts in one MULTI) |
| rom | `session.save(objs)` (one Lua call per entity), `Item.get(pk)`, `query.filter(...).all()`, `.count()`, `obj.save()`; rom has no NOT-equals, so the AND runs on the server and the NOT filters the fetched objects on the client; no reset |
| walrus | `obj.save()` per object (walrus has no bulk save), `Item.load(pk)`, `list(Item.query(expr))`, `!=` and `&` expressions; walrus has no query count, so count is `len()` of its `Executor` result set (a `SINTERSTORE` + `SCARD`); no reset |
| redis-om | `HashModel.add(objs)` per 1 000 objects (one pipeline each), `Item.get(pk)`, `obj.save()`; every query needs the RediSearch module, which plain Redis does not have, so redis-om only runs insert, get, update and memory; no reset |
"""  # noqa: E501


def table(summary: dict[str, Any], runs: dict[str, list[dict[str, Any]]], libs: list[str], n: int) -> str:
    head = "| workload | " + " | ".join(libs) + " |"
    lines = [head, "|---|" + "---|" * len(libs)]
    for w in WORKLOADS:
        label = w.label.replace("N objects", f"{n:,} objects").replace("all N", f"all {n:,}")
        cells = []
        base = cell(summary, "raw", w)
        for lib in libs:
            x = cell(summary, lib, w)
            if x is None:
                cells.append(
                    why_missing(runs, lib, w) if w.metric in ("seconds", "bytes_per_object") else "—"
                )
                continue
            text = f"{fmt(x * w.scale)} {w.unit}"
            if base and lib != "raw" and w.metric in ("seconds", "bytes_per_object"):
                text += f" ({fmt_ratio(x / base)})"
            cells.append(text)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reference_rows(summary: dict[str, Any]) -> str:
    raw = summary.get("raw", {})
    rows = []
    pairs = (
        ("pipe:insert/seconds", "insert/seconds", "bulk insert with plain pipelining (no Lua)", "s", 1.0),
        ("pyd:get/seconds", "get/seconds", "1 000 gets + pydantic `model_validate` of each dict", "ms", 1e3),
        ("pyd:eq/seconds", "eq/seconds", "equality query + pydantic `model_validate`", "ms", 1e3),
        ("pyd:and_not/seconds", "and_not/seconds", "AND + NOT query + pydantic `model_validate`", "ms", 1e3),
        (
            "hash:memory/bytes_per_object",
            "memory/bytes_per_object",
            "memory of the plain hashes alone",
            "B",
            1.0,
        ),
    )
    for key, base_key, label, unit, scale in pairs:
        if key in raw and base_key in raw:
            x, b = raw[key]["median"], raw[base_key]["median"]
            rows.append(f"| {label} | {fmt(x * scale)} {unit} | {fmt_ratio(x / b)} |")
    if not rows:
        return ""
    return "| raw redis-py variant | median | ratio to the raw column |\n|---|---|---|\n" + "\n".join(rows)


def cpu_split(summary: dict[str, Any]) -> str:
    rows = []
    for w in WORKLOADS:
        if w.metric != "seconds":
            continue
        cols = []
        for lib in ("raw", "typedredis"):
            s = summary.get(lib, {})
            if f"{w.key}/seconds" not in s:
                cols.append("— | — | —")
                continue
            ops = s[f"{w.key}/ops"]["median"]
            per = (w.scale / ops) if w.key in QUERY_KEYS else w.scale
            wall = s[f"{w.key}/seconds"]["median"] * w.scale
            client = s[f"{w.key}/client_cpu"]["median"] * per
            server = s[f"{w.key}/server_cpu"]["median"] * per
            cols.append(f"{fmt(wall)} | {fmt(client)} | {fmt(server)}")
        rows.append(f"| {w.label} ({w.unit}) | " + " | ".join(cols) + " |")
    return (
        "| workload (unit) | raw wall | raw client CPU | raw server CPU "
        "| typedredis wall | typedredis client CPU | typedredis server CPU |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def chart(summary: dict[str, Any], libs: list[str], path: Path, n: int) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    shown = [w for w in WORKLOADS if w.metric in ("seconds", "bytes_per_object")]
    colors = {
        "typedredis": "#2b7bba",
        "IndexedRedis": "#e08a2c",
        "rom": "#6aa84f",
        "walrus": "#a64d79",
        "redis-om": "#999999",
    }

    def ratio(lib: str, w: Workload) -> float | None:
        x, base = cell(summary, lib, w), cell(summary, "raw", w)
        return x / base if x is not None and base else None

    others = [lib for lib in libs if lib != "raw"]
    fig, ax = plt.subplots(figsize=(11, 5.2), dpi=110)
    series = [(lib, [ratio(lib, w) for w in shown], colors.get(lib)) for lib in others]
    grouped_bars(ax, series, lambda y: f"{y:.1f}" if y < 10 else f"{y:.0f}")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    top = max((b.get_height() for b in ax.patches), default=10.0)
    ax.set_ylim(top=top * 5)  # room for the legend above the tallest bar
    ax.set_ylabel("time (memory) relative to raw redis-py = 1, log scale; lower is better")
    ax.set_xticks(range(len(shown)))
    names = {
        "insert": "bulk insert",
        "get": "1 000 gets",
        "eq": "equality\nquery",
        "and_not": "AND + NOT\nquery",
        "count": "count",
        "update": "1 000\nupdates",
        "reset": "reset",
        "memory": "memory\nper object",
    }
    ax.set_xticklabels([names[w.key] for w in shown])
    ax.set_title(f"typedredis and its peers relative to raw redis-py, N = {n:,} objects (medians)")
    ax.legend(ncols=len(others), fontsize=8, loc="upper left")
    ax.grid(axis="y", which="both", alpha=0.25)
    save_figure(plt, fig, path)
    return True


def page(data: dict[str, Any], args: argparse.Namespace, libs: list[str], chart_name: str | None) -> str:
    runs, summary = data["runs"], data["summary"]
    reps = {lib: sum(1 for r in runs[lib] if "error" not in r) for lib in libs}
    failed = {
        lib: sorted({r["error"] for r in runs[lib] if "error" in r})
        for lib in libs
        if any("error" in r for r in runs[lib])
    }
    mach, vers = data["machine"], data["versions"]
    rep_text = ", ".join(f"{lib} {k}" for lib, k in reps.items())
    out = [
        "# Performance and benchmarks",
        "",
        "How fast typedredis is, measured against the physical limit (raw redis-py issuing the minimal",
        "commands) and against the libraries a user would pick instead, on the same Redis server in the",
        "same run. Every number is a median over interleaved repetitions; the ratio in parentheses is",
        "relative to the raw redis-py column (lower is better). Against the strongest raw baseline",
        "(one minimal script per operation, objects validated on both sides), workload by workload,",
        "see [the raw-Lua benchmark](benchmarks-rawlua.md).",
        "",
        "**How much to trust a ratio.** The machine is a 2-core virtual machine whose speed drifts",
        "from minute to minute: three back-to-back runs of the same 1 000-row query took 10.2, 12.6",
        "and 16.3 ms. Repetitions are interleaved so that drift hits every library alike, but with",
        "five repetitions a ratio still moves by about ±30 % between full runs (typedredis' bulk",
        "insert measured 0.86\u00d7 and 1.30\u00d7 of raw in two runs of nearly the same code). Read",
        "differences below ~1.3\u00d7 as noise, and differences of several times (the peers) as real.",
        "",
        f"*Generated by `python benchmarks/run.py --n {args.n} --repeat {args.repeat}` on "
        f"{data['date']}; repetitions: {rep_text}.*",
        "",
        "## Results",
        "",
        f"N = {args.n:,} objects of a model with three indexed string fields (`category`: 100 values, "
        "`status`: 4, `region`: 10), a float and a 200-character text.",
        "",
        table(summary, runs, libs, args.n),
        "",
    ]
    if chart_name:
        out += [f"![Ratio to raw redis-py per workload, log scale]({chart_name})", ""]
    ref = reference_rows(summary)
    if ref:
        out += ["Reference points measured in the same raw worker:", "", ref, ""]
    rows = targets(summary, libs)
    if rows:
        out += [
            "## Where typedredis stands against its targets",
            "",
            "| target | measured | |",
            "|---|---|---|",
            *[f"| {a} | {b} | {c} |" for a, b, c in rows],
            "",
        ]
    out += [
        "## Where the time goes",
        "",
        "Client CPU is the worker process's CPU time, server CPU the redis-server main thread's",
        "(`INFO cpu`), both per unit of the table above; wall time minus both is waiting (round trips,",
        "scheduling). On a 2-core machine with other load the wall clock is noisier than the CPU split.",
        "",
        cpu_split(summary),
        "",
        "## Method",
        "",
        "- One private `redis-server` (started by `typedredis.testing.RedisServer`: unix socket,",
        "  `--save ''`, `--appendonly no`) serves every library; it is flushed (`FLUSHALL SYNC`) before",
        "  each library's run.",
        "- Every library runs every workload in a fresh worker process (`benchmarks/worker.py`), one",
        "  library after the other within a repetition; the order rotates between repetitions so that",
        "  machine noise hits all libraries alike. raw redis-py and typedredis run in the project's",
        "  environment; the peers run in their own virtual environment, `benchmarks/.venv-peers`",
        "  (same redis-py and hiredis versions), so their pins cannot disturb the project.",
        "- Objects are built before the clock starts; only the library calls are timed",
        "  (`time.perf_counter`). Single gets and updates are 1 000 separate calls (one round trip",
        "  each); a query is repeated for about a second (at least 3 times) and reported per call,",
        "  after one untimed warm-up call. Every query result is checked against the expected count.",
        "- Workload order in a run: insert, gets, equality query, AND + NOT query, count, updates,",
        "  reset (with a new dataset of N objects); memory is the `used_memory` delta of the insert / N.",
        "- During the reset another process, with real-time priority so that the scheduler does not",
        "  delay it, sends `PING` every 0.5 ms and records the longest round trip; `SLOWLOG` (threshold",
        "  0.5 ms) records the longest single command the server ran meanwhile.",
        "- The server runs at nice -10 (where allowed) so that other processes on the machine do",
        "  not deschedule it mid-command; that matters most for the stall measurements.",
        "- All clients use hiredis. Only peers that are atomic about a dataset swap offer a reset:",
        "  IndexedRedis does it in one `MULTI` that blocks the server for the whole swap.",
        "",
        '### What "raw" means per workload',
        "",
        RAW_DEFINITIONS,
        "### How each library does each workload",
        "",
        PEER_DEFINITIONS,
        "## Machine and versions",
        "",
        f"- CPU: {mach['cpu']}, {mach['cores']} cores; memory {mach['memory']}; {mach['os']}",
        f"- load average (1, 5, 15 min) during the run: {', '.join(data['loadavg'])}",
    ]
    out += [f"- {name}: {v}" for name, v in vers.items()]
    missing = [lib for lib in PEERS if lib not in libs]
    if failed or missing:
        out += ["", "## Peers that did not run", ""]
        for lib, errors in failed.items():
            out.append(f"- **{lib}** failed: {'; '.join(e.replace('|', '/') for e in errors)}")
        for lib in missing:
            out.append(f"- **{lib}** was not part of this run (`--no-peers`, `--libs` or no peers venv).")
    out += [
        "",
        "## Re-running",
        "",
        "```sh",
        "python benchmarks/run.py --setup-peers            # once: benchmarks/.venv-peers",
        f"python benchmarks/run.py --n {args.n} --repeat {args.repeat}   # rewrites this page and its chart",
        "```",
        "",
        "The raw numbers of every repetition are in `benchmarks/results.json`.",
        "",
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="objects per dataset (default 100000)")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved repetitions (default 5)")
    parser.add_argument("--no-peers", action="store_true", help="only raw redis-py and typedredis")
    parser.add_argument("--libs", default="", help=f"comma-separated subset of {', '.join(ALL_LIBS)}")
    parser.add_argument(
        "--peer-repeat",
        default="walrus=1,rom=3,redis-om=3",
        help="cap the repetitions of slow peers (default: walrus=1,rom=3,redis-om=3)",
    )
    parser.add_argument(
        "--query-budget", type=float, default=1.0, help="seconds per query workload (default 1)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per worker before giving up")
    parser.add_argument("--out", default=str(ROOT / "docs" / "explanation" / "benchmarks.md"))
    parser.add_argument("--chart", default=str(ROOT / "docs" / "explanation" / "benchmarks.png"))
    parser.add_argument("--json", default=str(HERE / "results.json"))
    parser.add_argument("--no-docs", action="store_true", help="write only the JSON, not the page and chart")
    parser.add_argument("--server", help="redis-server binary (default: the newest on PATH)")
    parser.add_argument("--setup-peers", action="store_true", help="create benchmarks/.venv-peers and exit")
    parser.add_argument(
        "--render", metavar="JSON", help="only rewrite the page and chart from a saved results file"
    )
    parser.add_argument("--verbose", action="store_true", help="print workers' tracebacks")
    args = parser.parse_args(argv)

    if args.setup_peers:
        return setup_peers()
    libs = [lib for lib in args.libs.split(",") if lib] or list(ALL_LIBS)
    unknown = set(libs) - set(ALL_LIBS)
    if unknown:
        parser.error(f"unknown libraries: {sorted(unknown)}")
    if args.no_peers:
        libs = [lib for lib in libs if lib in LOCAL]
    if any(lib in PEERS for lib in libs) and not peers_python().exists():
        print(
            f"no peers environment at {PEERS_VENV}: run `python benchmarks/run.py --setup-peers` first; "
            "running raw and typedredis only",
            file=sys.stderr,
        )
        libs = [lib for lib in libs if lib in LOCAL]
    if "raw" not in libs:
        libs.insert(0, "raw")

    if args.render:  # re-render the page and chart from a saved run
        data = json.loads(Path(args.render).read_text())
        saved = data["args"]
        args.n, args.repeat = saved["n"], saved["repeat"]
        libs = list(data["runs"])
        data["summary"] = summarise(data["runs"])
    else:
        started = time.monotonic()
        data = run_all(args, libs)
        data["summary"] = summarise(data["runs"])
        data["machine"] = machine()
        data["versions"] = versions(data)
        data["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
        data["args"] = vars(args)
        data["duration"] = time.monotonic() - started
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=1))
    if not args.no_docs:
        chart_path = Path(args.chart)
        has_chart = chart(data["summary"], libs, chart_path, args.n)
        out = Path(args.out)
        name = os.path.relpath(chart_path, out.parent) if has_chart else None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page(data, args, libs, name))
        print(f"wrote {out}" + (f" and {chart_path}" if has_chart else ""))
    print(table(data["summary"], data["runs"], libs, args.n))
    for a, b, c in targets(data["summary"], libs):
        print(f"- {a}: {b} {c}")
    print(f"done in {data['duration']:.0f} s")
    errors = [r["error"] for lib in LOCAL if lib in libs for r in data["runs"][lib] if "error" in r]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
