"""The page and the chart of benchmarks/postgres.py, rendered from its results (JSON)."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import postgres_workload as w
from harness import MICRO, X, fmt, fmt_ratio, grouped_bars, markdown, pyplot, save_figure

TR, PG = "typedredis", "postgres"
FILTERED = ("page", "newest", "count", "top")  # the filtered, ordered or counted queries
LABELS = {q.key: q.label for q in w.QUERIES}
SHORT = {
    "get": "1. product by pk",
    "page": "2. category + price range, page 2, with count",
    "newest": "3. newest 50 orders of a customer",
    "count": "4. count paid with amount >= x",
    "top": "5. newest 20 products",
}


def us(x: float | None) -> str:
    if x is None:
        return "—"
    if x >= 1000:
        return f"{fmt(x / 1000)} ms"
    return f"{fmt(x)} {MICRO}s"


def ratio(a: float | None, b: float | None) -> str:
    return fmt_ratio(a / b) if a and b else "—"


def ops(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def lat(data: dict[str, Any], key: str, side: str, metric: str = "median_us") -> float | None:
    entry = data.get("latency", {}).get(key, {}).get(side)
    return None if entry is None else entry.get(metric)


def tp(data: dict[str, Any], key: str, side: str, clients: int) -> float | None:
    entry = data.get("throughput", {}).get(key, {}).get(side, {}).get(str(clients))
    return None if entry is None else entry["ops_s"]


def client_counts(data: dict[str, Any]) -> list[int]:
    found: set[int] = set()
    for sides in data.get("throughput", {}).values():
        for per in sides.values():
            found.update(int(c) for c in per)
    return sorted(found)


def met(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


# -- targets ----------------------------------------------------------------------------------


def targets(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for key in FILTERED:
        a, b = lat(data, key, TR), lat(data, key, PG)
        if a is None or b is None:
            continue
        rows.append(
            (
                f"{SHORT[key]}: single client no slower than PostgreSQL",
                f"median {us(a)} against {us(b)} ({ratio(a, b)})",
                met(a <= b),
            )
        )
    counts = client_counts(data)
    if counts:
        top = max(counts)
        for key in FILTERED:
            a, b = tp(data, key, TR, top), tp(data, key, PG, top)
            if a is None or b is None:
                continue
            rows.append(
                (
                    f"{SHORT[key]}: at least 2{X} PostgreSQL's throughput at {top} client processes",
                    f"{ops(a)} against {ops(b)} ops/s ({ratio(a, b)})",
                    met(a >= 2 * b),
                )
            )
        per = [(c, tp(data, "get", TR, c), tp(data, "get", PG, c)) for c in counts]
        per = [(c, a, b) for c, a, b in per if a is not None and b is not None]
        if per:
            text = "; ".join(
                f"{c} client{'s' if c > 1 else ''}: {ops(a)} against {ops(b)} ({ratio(a, b)})"
                for c, a, b in per
            )
            rows.append(
                (
                    "1. product by pk: PostgreSQL's throughput or better",
                    f"ops/s, {text}",
                    met(all(a >= b for _, a, b in per)),
                )
            )
    rl = data.get("reload")
    if rl:
        a, b = rl[TR]["median_s"], rl[PG]["median_s"]
        rows.append(
            (
                f"6. reload within 1.5{X} of PostgreSQL's table swap",
                f"{a:.2f} s against {b:.2f} s ({ratio(a, b)})",
                met(a <= 1.5 * b),
            )
        )
    return rows


# -- tables -----------------------------------------------------------------------------------


def latency_table(data: dict[str, Any]) -> str:
    rows = []
    for q in w.QUERIES:
        a, b = lat(data, q.key, TR), lat(data, q.key, PG)
        a99, b99 = lat(data, q.key, TR, "p99_us"), lat(data, q.key, PG, "p99_us")
        rows.append((SHORT[q.key], us(a), us(b), f"**{ratio(a, b)}**", us(a99), us(b99), ratio(a99, b99)))
    header = ("query", "typedredis median", "PostgreSQL median", "ratio")
    return markdown((*header, "typedredis p99", "PostgreSQL p99", "ratio p99"), rows, compact=True)


def throughput_table(data: dict[str, Any]) -> str:
    counts = client_counts(data)
    rows = []
    for q in w.QUERIES:
        cells = [SHORT[q.key]]
        for c in counts:
            a, b = tp(data, q.key, TR, c), tp(data, q.key, PG, c)
            cells.append(f"{ops(a)} / {ops(b)} (**{ratio(a, b)}**)")
        rows.append(cells)
    head = [f"{c} client{'s' if c > 1 else ''}: typedredis / PostgreSQL (ratio)" for c in counts]
    return markdown(["query", *head], rows, compact=True)


def reload_table(data: dict[str, Any]) -> str:
    rl = data["reload"]
    tr, pg = rl[TR], rl[PG]
    n = data["sizes"]["products"] + data["sizes"]["orders"]

    def medians(what: str, key: str, bold: str = "") -> tuple[str, ...]:
        a, b = statistics.median(tr[key]), statistics.median(pg[key])
        return (what, f"{a:.2f} s", f"{b:.2f} s", f"{bold}{ratio(a, b)}{bold}")

    rows = [
        medians(f"wall time (median of {len(tr['seconds'])})", "seconds", "**"),
        medians("CPU of the process running it", "client_cpu_s"),
        medians("CPU of the server (Redis main thread / the PostgreSQL backend)", "server_cpu_s"),
        (
            f"longest round trip of another client meanwhile (worst of {len(tr['stall_ms'])})",
            f"{fmt(max(tr['stall_ms']))} ms (`PING`)",
            f"{fmt(max(pg['stall_ms']))} ms (`Product` by pk)",
            "",
        ),
    ]
    if "idle_stall_ms" in tr:
        idle = f"the same, idle ({fmt(rl['args_idle_s'])} s with no reload)"
        rows.append((idle, f"{fmt(tr['idle_stall_ms'])} ms", f"{fmt(pg['idle_stall_ms'])} ms", ""))
    for order, label in w.RELOAD_FLOORS.items():
        floor = rl.get("floors", {}).get(order)
        if floor and floor["seconds"]:
            a, b = statistics.median(floor["seconds"]), statistics.median(pg["seconds"])
            rows.append((f"{label} (wall, no Lua; not atomic)", f"{a:.2f} s", "", ratio(a, b)))
    if tr.get("slowest_command_ms"):
        slowest = f"{fmt(max(tr['slowest_command_ms']))} ms ({max(tr['commands_over_1ms']):,})"
        what = "longest single server command (Redis `SLOWLOG`; commands over 1 ms)"
        rows.append((what, slowest, "—", ""))
    return markdown(
        (f"reload of all {n:,} objects / rows", "typedredis", "PostgreSQL", "ratio"), rows, compact=True
    )


def cpu_table(data: dict[str, Any]) -> str:
    rows = []
    for q in w.QUERIES:
        for side, name in ((TR, "typedredis"), (PG, "PostgreSQL")):
            e = data["latency"][q.key][side]
            rest = e["mean_us"] - (e["client_cpu_us"] or 0) - (e["server_cpu_us"] or 0)
            cpu = (us(e["client_cpu_us"]), us(e["server_cpu_us"]))
            rows.append((SHORT[q.key], name, us(e["median_us"]), *cpu, us(rest) if rest > 0 else "≈ 0"))
    header = ("query", "side", "wall (median)", "client CPU per call", "server CPU per call")
    return markdown((*header, "mean wall - client - server"), rows, compact=True)


def median_p99_table(first: str, entries: Iterable[tuple[str, dict[str, Any] | None]]) -> str:
    """A row per (name, latency entry) with its median and p99; none for a missing entry."""
    rows = [(name, us(e["median_us"]), us(e["p99_us"])) for name, e in entries if e]
    return markdown((first, "median", "p99"), rows, compact=True)


def floors_table(data: dict[str, Any]) -> str:
    get = data["latency"]["get"]
    return median_p99_table(
        "call",
        [
            *data["latency"].get("floors", {}).items(),
            ("`Product.get(pk)` (typedredis)", get[TR]),
            ("`SELECT` by id + `Product(...)` (PostgreSQL)", get[PG]),
        ],
    )


def variants_table(data: dict[str, Any]) -> str:
    page = data["latency"]["page"]
    names = {
        PG: "one statement: `count(*)` in a subquery, the page in a `LEFT JOIN LATERAL` "
        "(the PostgreSQL column above)",
        "postgres (window count)": "one statement: the page with `count(*) OVER ()` "
        "(and a second statement when the page is empty)",
        "postgres (2 statements, pipelined)": "two statements, page and count, in psycopg's pipeline mode "
        "(one round trip)",
    }
    entries = [(name, page.get(side)) for side, name in names.items()]
    return median_p99_table("query 2 as", [*entries, ("typedredis `page_with_count()`", page[TR])])


def shared_note(data: dict[str, Any]) -> list[str]:
    """A warning when the machine was busy with other work at the start of the run."""
    try:
        first = float(data["loadavg"][0].split()[0])
    except (IndexError, ValueError):
        return []
    if first < 1.0:
        return []
    return [
        "",
        f"*The machine was not idle when the run started (load {first:.1f}): other work shared its",
        "cores, which inflates every absolute figure and adds noise. Both sides were measured",
        "interleaved, so the ratios are fairer than the absolute times.*",
    ]


def variants_verdict(data: dict[str, Any]) -> list[str]:
    page = data["latency"]["page"]
    forms = {k: v["median_us"] for k, v in page.items() if k != TR}
    if not forms:
        return []
    best = min(forms, key=lambda k: forms[k])
    tr = page[TR]["median_us"]
    verdict = "no slower than" if tr <= forms[best] else f"{ratio(tr, forms[best])} the time of"
    return [
        f"The fastest form here took {us(forms[best])} and the slowest"
        f" {ratio(max(forms.values()), forms[best])} as long: within noise of each other.",
        f"typedredis' {us(tr)} is {verdict} the fastest.",
        "",
    ]


def profile_section(data: dict[str, Any]) -> list[str]:
    prof = data["profile"]
    out = [
        "typedredis' server time per query (`INFO commandstats`: the `EVALSHA` calls' own time, the",
        "commands they ran included; for the get, which runs no script, its `HMGET` and `HGET`;",
        f"{prof['get']['calls']} calls each, with `--profile`), and the commands each query ran:",
        "",
    ]
    rows = []
    for q in w.QUERIES:
        e = prof.get(q.key)
        if not e:
            continue
        cmds = ", ".join(
            f"{k.upper()} {v:g}" for k, v in sorted(e["commands_per_call"].items()) if k != "evalsha" and v
        )
        rows.append((SHORT[q.key], f"{e['evalsha_per_call']:g}", us(e["server_us_per_call"]), cmds))
    header = ("query", "script calls", "server time per query", "commands per query")
    return [*out, markdown(header, rows, compact=True), ""]


def plans_section(data: dict[str, Any]) -> list[str]:
    plans = data["plans"]
    out = [
        "typedredis' plans (`Query.plan(action)`, checked by the benchmark against the strategy the",
        "compound index should give):",
        "",
    ]
    rows = []
    for key, actions in plans["typedredis"].items():
        for action, p in actions.items():
            if "intended" not in p:
                continue
            ok = "✓" if p["strategy"] == p["intended"] else "**no**"
            strategy, intended = f"`{p['strategy']}`", f"`{p['intended']}` {ok}"
            rows.append((SHORT[key], f"`{action}`", strategy, intended, f"{p['matches']:,}"))
    out += [
        markdown(("query", "action", "strategy", "intended", "matches (estimate)"), rows, compact=True),
        "",
        "PostgreSQL's plans (`EXPLAIN (COSTS OFF)` of the prepared statements, generic plan):",
        "",
    ]
    for key, lines in plans["postgres"].items():
        out += [f"{SHORT[key]}:", "", "```text", *lines, "```", ""]
    return out


# -- chart ------------------------------------------------------------------------------------


def chart(data: dict[str, Any], path: Path) -> bool:
    plt = pyplot()
    if plt is None:
        return False
    colors = {TR: "#c0392b", PG: "#336791"}
    names = {TR: "typedredis", PG: "PostgreSQL"}
    keys = [q.key for q in w.QUERIES]
    xt = ["1. by pk", "2. page +\ncount", "3. newest\n50 orders", "4. count", "5. newest\n20 products"]
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.8), dpi=110, gridspec_kw={"width_ratios": [5, 5, 1.6]})

    def side_by_side(ax: Any, value: Any, name: str, label: Any) -> list[list[float]]:
        """typedredis' and PostgreSQL's bars of ``value(key, side)``, per query."""
        series = [(name.format(names[x]), [value(k, x) or 0 for k in keys], colors[x]) for x in (TR, PG)]
        return grouped_bars(ax, series, label, width=0.76, fontsize=6.5)

    def finish(ax: Any, ylabel: str, title: str) -> None:
        ax.set_yscale("log")
        ax.set_ylim(top=max((b.get_height() for b in ax.patches), default=10.0) * 4)  # legend room
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(xt, fontsize=8)
        ax.legend(fontsize=7.5, loc="upper left")
        ax.grid(axis="y", which="both", alpha=0.25)

    ax = axes[0]
    xs = side_by_side(
        ax, lambda k, side: lat(data, k, side), "{} median", lambda y: us(y).replace(" ", "\u2009")
    )
    for j, side in enumerate((TR, PG)):
        p99 = [lat(data, k, side, "p99_us") or 0 for k in keys]
        ax.scatter(xs[j], p99, marker="_", s=140, color="black", zorder=3, label="p99" if j == 0 else None)
    finish(ax, f"{MICRO}s per call, log scale (lower is better)", "single client: latency per call")
    counts = client_counts(data)
    if counts:
        top = max(counts)
        side_by_side(axes[1], lambda k, side: tp(data, k, side, top), "{}", lambda y: f"{y:,.0f}")
        ylabel = "calls per second, all clients, log scale (higher is better)"
        finish(axes[1], ylabel, f"throughput, {top} client processes")
    ax = axes[2]
    rl = data.get("reload")
    if rl:
        ys = [rl[TR]["median_s"], rl[PG]["median_s"]]
        bars = ax.bar([0, 1], ys, 0.6, color=[colors[TR], colors[PG]])
        for bar, y in zip(bars, ys, strict=True):
            ax.annotate(
                f"{y:.2f} s", (bar.get_x() + bar.get_width() / 2, y), ha="center", va="bottom", fontsize=7
            )
        ax.set_xticks([0, 1])
        ax.set_xticklabels(["typedredis\nreset", "PostgreSQL\ntable swap"], fontsize=8)
        ax.set_ylabel("seconds (lower is better)")
        n = data["sizes"]["products"] + data["sizes"]["orders"]
        ax.set_title(f"reload of {n:,}", fontsize=10)
        ax.grid(axis="y", alpha=0.25)
    s = data["sizes"]
    fig.suptitle(
        f"typedredis and PostgreSQL 15 on the same 2-core machine: {s['products']:,} products, "
        f"{s['orders']:,} orders (medians)",
        fontsize=11,
    )
    save_figure(plt, fig, path)
    return True


# -- the page ---------------------------------------------------------------------------------


def in_short(data: dict[str, Any]) -> str:
    wins = [k for k in w.QUERY_KEYS if (lat(data, k, TR) or 0) <= (lat(data, k, PG) or 0)]
    losses = [k for k in w.QUERY_KEYS if k not in wins]
    parts = []
    if wins:
        parts.append(
            "typedredis is faster for "
            + ", ".join(
                f"{SHORT[k].split('. ', 1)[1]} ({ratio(lat(data, k, PG), lat(data, k, TR))} faster)"
                for k in wins
            )
        )
    if losses:
        parts.append(
            "PostgreSQL is faster for "
            + ", ".join(
                f"{SHORT[k].split('. ', 1)[1]} (typedredis takes {ratio(lat(data, k, TR), lat(data, k, PG))})"
                for k in losses
            )
        )
    text = "**In short**, single client: " + "; ".join(parts) + "."
    rl = data.get("reload")
    if rl:
        text += (
            f" Reloading the whole dataset takes typedredis {rl[TR]['median_s']:.1f} s against "
            f"{rl[PG]['median_s']:.2f} s for PostgreSQL's table swap "
            f"({ratio(rl[TR]['median_s'], rl[PG]['median_s'])})."
        )
    return text


def render_page(data: dict[str, Any], chart_name: str | None) -> str:
    s = data["sizes"]
    mach, vers = data["machine"], data["versions"]
    load = data["load"]
    n_objects = s["products"] + s["orders"]
    out = [
        "# Benchmark: typedredis against PostgreSQL",
        "",
        "typedredis is meant to serve reads in front of a SQL database: a job copies a dataset from",
        "SQL into Redis with `Model.reset(...)`, and the web tier queries Redis. This page measures",
        "whether that read front is faster than the database it fronts: the same five queries, on the",
        "same data, answered by typedredis on a private `redis-server` and by a private PostgreSQL 15",
        "with the B-tree indexes a DBA would add, both on the same machine, both returning the",
        "same validated pydantic objects. It also measures the reload of the whole dataset.",
        "",
        f"*Generated by `{data['command']}` on {data['date']} (commit {data['commit']}); load average",
        f"(1, 5, 15 min) at the start and after each phase: {', '.join(data['loadavg'])} on",
        f"{mach['cores']} cores.*",
        *shared_note(data),
        "",
        "## Results",
        "",
        in_short(data),
        "",
        f"{s['products']:,} products and {s['orders']:,} orders ({s['customers']:,} customers). Single",
        f"client: median and 99th percentile of {lat_calls(data):,} calls per query and side;",
        "the ratio is typedredis / PostgreSQL (below 1 typedredis is faster).",
        "",
        latency_table(data),
        "",
    ]
    if data.get("throughput"):
        out += [
            "Throughput: calls per second of all client processes together (each with its own",
            f"connection), median of {data['args']['tp_rounds']} runs of {fmt(data['args']['duration'])} s;",
            "the ratio is typedredis / PostgreSQL (above 1 typedredis is faster). Clients and both",
            f"servers share the machine's {mach['cores']} cores.",
            "",
            throughput_table(data),
            "",
        ]
    if data.get("reload"):
        rl = data["reload"]
        out += [
            "The reload: typedredis `Product.reset(...)` + `Order.reset(...)` of objects built (validated)",
            "from the rows inside the clock, against PostgreSQL's table swap (new tables, `COPY`, indexes,",
            "`ANALYZE`, renames, in one transaction). Both start from the same rows in the job's memory.",
            "",
            reload_table(data),
            "",
            f"Of typedredis' reload, building the {n_objects:,} objects from the rows (pydantic",
            f"validation) alone takes {statistics.median(rl['build_only_s']):.2f} s. A job that first reads",
            f"the rows from PostgreSQL spends another {statistics.median(rl['select_all_s']):.2f} s on that",
            "`SELECT`",
            "(outside both clocks: either way the rows have to be read).",
            "",
        ]
    if chart_name:
        out += [f"![Latency, throughput and reload of typedredis and PostgreSQL]({chart_name})", ""]
    out += [
        "## Targets",
        "",
        "The targets of the issue, with the compound indexes declared:",
        "",
        markdown(("target", "measured", ""), targets(data), compact=True),
        "",
        "## Where the time goes",
        "",
        "Client CPU is this benchmark process's CPU time per call (building the query, encoding,",
        "decoding, pydantic validation); server CPU is the redis-server main thread's (`INFO cpu`) or",
        "the PostgreSQL backend process's (`/proc/<pid>/stat`, 10 ms ticks), per call, over all the",
        "single-client calls. What is left of the (mean) wall time is the round trip and scheduling.",
        "",
        cpu_table(data),
        "",
        "The floor under a get by pk: the bare calls each side is built on (same loop, same",
        "parameters), next to the full calls.",
        "",
        floors_table(data),
        "",
    ]
    fl = data["latency"].get("floors", {})
    ev = fl.get(w.PLAIN_GET_FLOOR)
    hg = fl.get("redis-py HGETALL of the object's hash")
    tr_get = lat(data, "get", TR)
    if ev and hg and tr_get:
        out += [
            f"`Product.get(pk)` takes {more_or_less(tr_get - ev['median_us'])} a bare redis-py pipeline of",
            f"its two commands, and {more_or_less(tr_get - hg['median_us'])} a bare `HGETALL`.",
            "",
        ]
    if data.get("profile"):
        out += profile_section(data)
    out += [
        "### Query 2 in SQL, three ways",
        "",
        "A page with its total count can be asked of PostgreSQL in several ways. The PostgreSQL",
        "column above uses one statement (the count in a subquery, the page in a `LEFT JOIN",
        "LATERAL`: one round trip, the count an index-only scan); the two others were measured in",
        "the same loop, with the same parameters, and cross-checked to return the same objects:",
        "",
        variants_table(data),
        "",
        *variants_verdict(data),
        "### Plans",
        "",
        *plans_section(data),
        "## Discussion",
        "",
        *discussion(data),
        "",
        "## Method",
        "",
        *method(data),
        "",
        "## Machine and versions",
        "",
        f"- CPU: {mach['cpu']}, {mach['cores']} cores; memory {mach['memory']}; {mach['os']}. Both servers,",
        "  the benchmark and its client processes run on this one machine.",
    ]
    out += [f"- {name}: {v}" for name, v in vers.items()]
    settings = ", ".join(f"`{k}={v}`" for k, v in data["pg_settings"].items())
    out += [
        f"- PostgreSQL settings that differ from the defaults: {settings}, `max_connections=60`,",
        "  `max_wal_size=4GB`, `maintenance_work_mem=256MB`, `timezone=UTC`; no TCP (`listen_addresses=''`).",
        f"- Data size: PostgreSQL {load['postgres_bytes'] / 2**20:.0f} MiB (tables and indexes), Redis",
        f"  `used_memory` {load['redis_used_memory'] / 2**20:.0f} MiB.",
        "",
        "## Reproduce",
        "",
        "```sh",
        ". .venv/bin/activate",
        'pip install -e ".[bench]"          # psycopg[binary] and matplotlib',
        "python benchmarks/postgres.py       # default sizes (~10 min on 2 cores): JSON, this page, chart",
        "python benchmarks/postgres.py --quick                 # tiny sizes (seconds)",
        "python benchmarks/postgres.py --profile               # adds a cProfile of typedredis' side",
        "python benchmarks/postgres.py --render benchmarks/postgres-results.json   # page + chart only",
        "```",
        "",
        "It needs PostgreSQL's server binaries (`initdb`, `postgres`: Debian's `postgresql` package puts",
        "them in `/usr/lib/postgresql/<version>/bin`) and a `redis-server`; it starts its own",
        "private servers and never touches a running one. Every call's latency is in",
        "`benchmarks/postgres-results.json`.",
        "",
    ]
    return "\n".join(out)


def lat_calls(data: dict[str, Any]) -> int:
    e = data["latency"]["get"][TR]
    return int(e["calls"])


def method(data: dict[str, Any]) -> list[str]:
    a = data["args"]
    s = data["sizes"]
    return [
        "- **Data**, generated from a fixed seed, identical on both sides: products (id, `category` one of",
        "  50, `name`, `price` in integer cents from 1.00 to 1,000.00, `created_at` uniform over 2024 with",
        f"  microseconds, UTC) and orders (id, `customer` one of {s['customers']:,}, `status` paid 50 %",
        "  / open 25 % / void 15 % / refunded 10 %, `amount` an int from 1 to 100,000, `created_at`).",
        "  Prices are `int` cents on both sides (`integer` columns), timestamps `timestamptz`.",
        "- **typedredis**: the models `Product` (`category: Indexed[str]`, `price: Sorted[int]`,",
        '  `created_at: Sorted[datetime]`, `Compound("category", "price")`) and `Order` (`customer` and',
        "  `status` `Indexed[str]`, `amount: Sorted[int]`, `created_at: Sorted[datetime]`,",
        '  `Compound("customer", "created_at")`, `Compound("status", "amount")`), the SQL ids as pks;',
        "  a private `redis-server` from `typedredis.testing.RedisServer` (unix socket, no persistence),",
        "  redis-py with hiredis.",
        "- **PostgreSQL**: a private server (`initdb` into a temporary directory, unix socket only),",
        "  tables with `bigint` primary keys and the B-tree indexes `product (category, price)`,",
        "  `product (created_at)`, `orders (customer, created_at)`, `orders (status, amount)`, loaded with",
        "  `COPY` then `VACUUM ANALYZE`. **Durability is off** (`fsync=off`, `synchronous_commit=off`,",
        "  `full_page_writes=off`) as Redis runs without persistence: this measures reads and a reload,",
        "  not commits. psycopg 3 (binary, C implementation) with `autocommit`, every statement",
        "  server-side prepared (`prepare=True`), parameters bound; each row is turned into the same",
        "  pydantic model with its constructor (`Product(pk=..., ...)`, validated, as typedredis",
        "  validates what it reads).",
        "- **Queries**: in the table below (the code is in `benchmarks/postgres_workload.py`). Ties in",
        "  an order are broken by id on both sides (typedredis orders ties by pk). Query 4's status is",
        "  always `'paid'` (~50 % of the orders).",
        "- **Parameters**: random per call (pk; category and a price window of 400.00; customer;",
        "  amount threshold) from a seeded generator; both sides get the same sequence.",
        f"- **Cross-check**: before timing, {a['check']} parameter sets per query are run on both sides",
        "  and the results compared (objects field by field, totals, counts); any difference stops the run.",
        "  The same for the two other SQL forms of query 2.",
        f"- **Latency**: {a['repeat']} repetitions; in each, for each query, a block of {a['calls']}",
        "  calls on one side then the same calls on the other, the side that goes first",
        "  alternating; every call is timed on its own (`time.perf_counter`), garbage collected",
        "  before each block. One client, one connection per side, in the benchmark process.",
        f"- **Throughput**: {', '.join(str(c) for c in a['clients'])} client processes (multiprocessing,",
        "  `spawn`), each with its own connection to each server, started once and reused; for each",
        "  query, side and number of clients, every client runs a few warm-up calls then calls in a",
        "  loop from a",
        f"  common start time for {fmt(a['duration'])} s; the figure is all calls / elapsed time, the",
        f"  median of {a['tp_rounds']} rounds (sides alternate which goes first).",
        f"- **Reload**: {a['reload_repeat']} times each, alternating. typedredis: `Product.reset(...)` then",
        "  `Order.reset(...)`, each fed a generator that builds the objects from the rows (the way a",
        "  refresh job does it: validation inside the clock). PostgreSQL: in one transaction, create",
        "  new tables, `COPY ... (FORMAT BINARY, FREEZE)` the rows, create the indexes, `ANALYZE`, rename",
        "  the old tables away and the new ones in, drop the old ones. Meanwhile another process (real-time",
        "  priority) sends a `PING` to Redis, or reads a product by pk from PostgreSQL, every 0.5 ms and",
        "  records its longest round trip; the same probes also run for a few seconds with nothing",
        "  else going on, for the machine's own noise. Redis' `SLOWLOG` records every command of",
        "  over 1 ms during the reset.",
        "- **Redis' floors** (what Redis itself costs, whatever a client library does): under query 3,",
        "  a bare script that only runs an `HMGET` of each of the same orders, their pks looked up",
        "  before the clock starts, timed in the latency loop like a side; under the reload, after",
        "  each round, every key the reset wrote (read back once) written again into database 1 of",
        "  the same server by plain redis-py pipelines, key by key, 1,000 members per `ZADD`/`SADD`,",
        "  once in each key's order and once shuffled (before the clock), then flushed.",
        "",
        markdown(
            ("query", "typedredis", "SQL"),
            [(SHORT[q.key], f"`{q.typedredis}`", f"`{q.sql}`") for q in w.QUERIES],
            compact=True,
        ),
    ]


def slowlog_sentence(rl: dict[str, Any]) -> list[str]:
    slow = rl[TR].get("slowest_command_ms")
    if not slow:
        return ["of the reset:"]
    return [
        f"of the reset: the longest took {fmt(max(slow))} ms of server time (`SLOWLOG`), and",
        f"{max(rl[TR]['commands_over_1ms']):,} script calls of one reload took more than 1 ms (a call",
        "writes 100 objects with all their index entries). Meanwhile",
    ]


def join_and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def more_or_less(difference: float) -> str:
    return f"{us(abs(difference))} {'more' if difference >= 0 else 'less'} than"


def get_over_floor(extra: float) -> list[str]:
    """What a get adds to a bare redis-py pipeline of its commands (its own connection pool is
    lighter than redis-py's pipeline, so it can be less)."""
    if extra >= 0:
        return [f"adds {us(extra)} to it (the executor, decoding and validating the"]
    return [
        f"took {us(-extra)} less (it sends both commands on a connection pool of its own, lighter than",
        "a redis-py pipeline, which saves more than it spends on the executor, decoding and validating the",
    ]


def reload_floor(rl: dict[str, Any]) -> list[str]:
    """The reload against its floor on Redis (the same keys, pipelined without Lua), when measured."""
    floors = {k: v for k, v in rl.get("floors", {}).items() if v["seconds"]}
    if not floors or "sorted" not in floors or "random" not in floors:
        return []
    best, rand = floors["sorted"], floors["random"]
    a, r = statistics.median(best["seconds"]), statistics.median(rand["seconds"])
    pg = rl[PG]["median_s"]
    best_cpu = statistics.median(best["server_cpu_s"])
    if best_cpu > 1.5 * pg:
        verdict = (
            f"Redis' own CPU for that best case is already above 1.5{X} the whole table swap: with this"
            " layout, no client can reach the target."
        )
    elif a > 1.5 * pg:
        verdict = (
            f"That best case is above 1.5{X} the table swap, but Redis' own share of it is not: a client"
            " faster than redis-py could come closer."
        )
    else:
        verdict = f"That best case is within 1.5{X} the table swap: the rest of the gap is typedredis' own."
    return [
        f"The floor under it: the same {rl.get('floor_keys', 0):,} keys (hashes, sets and sorted sets, as",
        "the reset wrote them) written again, key by key, by plain redis-py pipelines, without Lua",
        "and without atomicity, the members of each set 1,000 per command. In each key's own",
        "order (the best case for a sorted set: each member lands next to the one before) that took",
        f"{a:.2f} s ({best_cpu:.2f} s of Redis CPU), in random order",
        f"{r:.2f} s ({statistics.median(rand['server_cpu_s']):.2f} s): {ratio(a, pg)} and {ratio(r, pg)}",
        f"the table swap. {verdict} (Here the objects reach the reset by pk, which is random order",
        "for every sorted index but the generation's `all` set.)",
        "",
    ]


def newest_floor(data: dict[str, Any]) -> list[str]:
    """Query 3 against its floor on Redis (a bare script of its HMGETs), when the run has it."""
    newest = data["latency"]["newest"]
    floor, tr, pg = newest.get(w.NEWEST_FLOOR), newest[TR], newest[PG]
    if not floor:
        return []
    below = floor["median_us"] <= pg["median_us"]
    return [
        "The floor under query 3 on Redis: a bare script that does nothing but an `HMGET` of each",
        "of the same orders (their pks found beforehand, outside the clock; the reply not",
        f"decoded) took {us(floor['median_us'])} single client, with {us(floor['server_cpu_us'])} of",
        f"Redis CPU and {us(floor['client_cpu_us'])} of client CPU per call, against PostgreSQL's whole",
        f"query at {us(pg['median_us'])} ({us(pg['server_cpu_us'])} of backend CPU) and typedredis'",
        f"{us(tr['median_us'])}. "
        + (
            "The floor is below PostgreSQL's time: part of the gap is typedredis' own."
            if below
            else "Reading the objects alone, one hash per object, already takes longer than PostgreSQL's"
            " whole query, before any decoding or validation."
        ),
        "",
    ]


def discussion(data: dict[str, Any]) -> list[str]:
    """The reading of the results: fixed explanations of the mechanisms, figures from the run."""
    sizes = data["sizes"]
    lt = data["latency"]
    prof = data.get("profile") or {}

    def cpu(key: str, side: str, which: str) -> float:
        return float(lt[key][side][f"{which}_cpu_us"] or 0.0)

    def script(key: str) -> float | None:
        """typedredis' server time per query (INFO commandstats), when the run was profiled."""
        entry = prof.get(key)
        return None if not isinstance(entry, dict) else float(entry["server_us_per_call"])

    def faster(key: str) -> str:
        a, b = lat(data, key, TR), lat(data, key, PG)
        if a is None or b is None:
            return "—"
        return f"{ratio(b, a)} faster" if a <= b else f"{ratio(a, b)} slower"

    counts = client_counts(data)
    top = max(counts) if counts else None
    wins = [k for k in w.QUERY_KEYS if (lat(data, k, TR) or 0) <= (lat(data, k, PG) or 0)]
    losses = [k for k in w.QUERY_KEYS if k not in wins]
    plan_count = data["plans"]["typedredis"]["count"]["count"]
    count_script, top_script, get_script = script("count"), script("top"), script("get")
    if count_script is not None and top_script is not None:
        per_object = max(0.0, (top_script - count_script) / w.TOP)
        fixed = (
            f"  {us(count_script)} of `EVALSHA` time for query 4 (`INFO commandstats`), whose three",
            f"  commands take a few {MICRO}s. Each object fetched then costs an `HMGET` and its packing in",
            f"  Lua, about {us(per_object)} of script time here (query 5: {us(top_script)} for 20 products).",
        )
    else:
        per_object = max(0.0, (cpu("top", TR, "server") - cpu("count", TR, "server")) / w.TOP)
        fixed = (
            f"  {us(cpu('count', TR, 'server'))} of Redis CPU for query 4, whose commands take a few",
            f"  {MICRO}s. Each object fetched then costs an `HMGET` and its packing in Lua, about",
            f"  {us(per_object)} here.",
        )
    out = ["### Where typedredis wins: counts", ""]
    count_tp = ""
    if top:
        count_tp = (
            f", and it had {ratio(tp(data, 'count', TR, top), tp(data, 'count', PG, top))} PostgreSQL's "
            f"throughput at {top} client processes"
        )
    out += [
        'Query 4 is what typedredis\' compound indexes are for. With `Compound("status", "amount")`',
        "declared, the count of paid orders with an amount of at least x is one `ZLEXCOUNT` on the",
        "sorted set of the paid orders: O(log N) whatever the answer (the plan is `exact`).",
        "PostgreSQL's B-tree keeps no counts: its index-only scan of `(status, amount)` visits every",
        f"matching entry ({plan_count['matches']:,} for the parameter the plan above was taken with;",
        f"half the paid orders on average), {us(cpu('count', PG, 'server'))} of backend CPU per call.",
        f"typedredis was {faster('count')} single client{count_tp}. The gap grows with the number of",
        "matching rows, and vanishes for counts of a few rows.",
        "",
        "### Where it loses: fetching objects",
        "",
        "For queries 2, 3 and 5 both sides find the page in O(log N + page): typedredis reads it by",
        "rank from a compound or sorted index (`rank`), PostgreSQL scans the B-tree that matches (see",
        "the plans above). What differs is what each object costs once found, and typedredis pays more",
        "at both ends of the connection:",
        "",
        "- **On the server**, every typedredis query is a call of a Lua script (`query.lua` with",
        "  `lib.lua`, about 1,200 lines) with a fixed cost per call:",
        *fixed,
        f"  In all, Redis' main thread spent {us(cpu('top', TR, 'server'))} of CPU per call on query 5",
        f"  and {us(cpu('newest', TR, 'server'))} on query 3 (about",
        f"  {sizes['orders'] / sizes['customers']:.0f} orders, a customer's average), reading requests",
        "  and writing replies included; the",
        f"  PostgreSQL backend spent {us(cpu('top', PG, 'server'))} and {us(cpu('newest', PG, 'server'))}.",
        "- **On the client**, typedredis builds each query in Python (expression objects, the",
        "  compiler, matching the compound indexes, packing the arguments) and decodes every object",
        "  field by field (each stored value is a msgpack document of its own; a datetime is ISO",
        "  text that `datetime.fromisoformat` parses) before pydantic validates it; psycopg's C",
        "  implementation hands out tuples that `Product(...)` validates. Client CPU per call:",
        f"  {us(cpu('top', TR, 'client'))} against {us(cpu('top', PG, 'client'))} for query 5,",
        f"  {us(cpu('newest', TR, 'client'))} against {us(cpu('newest', PG, 'client'))} for query 3.",
        "- `page_with_count()` (query 2) is one script call: the page by rank from the compound index,",
        "  and its count as the span of the page's range, which finding the page by rank reads anyway;",
        "  PostgreSQL answers both in one statement (its count an index-only scan of a few hundred",
        "  entries here).",
        "",
        *newest_floor(data),
        f"Single client, typedredis was {faster('page')} on query 2, {faster('newest')} on query 3 and",
        f"{faster('top')} on query 5.",
        "",
        "### Get by pk: the round-trip floor",
        "",
    ]
    fl = lt.get("floors", {})
    ping = fl.get("redis-py PING", {}).get("median_us")
    sel1 = fl.get("psycopg SELECT 1", {}).get("median_us")
    ev = fl.get(w.PLAIN_GET_FLOOR, {}).get("median_us")
    if ping and sel1 and ev:
        floor = (
            "so the floor under typedredis is no lower than PostgreSQL's on the same machine"
            if ping >= 0.9 * sel1
            else f"yet the floor under typedredis is lower here, by {us(sel1 - ping)}"
        )
        server_get = f" (their server time: {us(get_script)})" if get_script is not None else ""
        out += [
            "A get is one round trip and one object. A bare redis-py round trip (`PING`) took",
            f"{us(ping)} here and psycopg's prepared `SELECT 1` {us(sel1)}: redis-py runs more Python per",
            f"command (connection pool, parser, event hooks) than psycopg's C implementation, {floor}.",
            "typedredis reads an object without a script: an `HMGET` of its hash, then an `HGET` of the",
            "current generation that vouches for it, in one round trip. A bare redis-py pipeline of",
            f"those two commands took {us(ev)}{server_get}; `Product.get(pk)`",
            *get_over_floor((lat(data, "get", TR) or 0) - ev),
            f"object), for {us(lat(data, 'get', TR))} against PostgreSQL's {us(lat(data, 'get', PG))}",
            f"({faster('get')}).",
            "",
        ]
    heavier = [
        k
        for k in w.QUERY_KEYS
        if cpu(k, TR, "client") + cpu(k, TR, "server") > cpu(k, PG, "client") + cpu(k, PG, "server")
    ]
    out += [
        "### More clients",
        "",
        "Redis runs every command of every client on one thread, so all of typedredis' server work",
        "is serialised on one core; PostgreSQL runs one backend process per connection and spreads",
        "its server work over both. The typedredis clients also need about as much CPU per query as",
        "the Redis server does (the table above), and on 2 cores the client processes, the servers",
        "and anything else on the machine compete for the same CPU time. So more clients cannot",
        "multiply either side's throughput here; what they show is which side needs less CPU per",
        "query, clients and server together: PostgreSQL for "
        + (f"queries {join_and([SHORT[k].split('. ')[0] for k in heavier])}" if heavier else "none")
        + " of the five (client + server CPU in the table above).",
    ]
    if top:
        fetch = [k for k in ("get", "page", "newest", "top") if tp(data, k, TR, top) and tp(data, k, PG, top)]
        ratios = [(tp(data, k, TR, top) or 0) / (tp(data, k, PG, top) or 1) for k in fetch]
        if ratios:
            out += [
                f"At {top} client processes typedredis reached {min(ratios):.2f} to {max(ratios):.2f}{X}",
                "PostgreSQL's throughput on the queries that fetch objects (1, 2, 3 and 5).",
            ]
    rl = data.get("reload")
    if rl:
        a, b = rl[TR]["median_s"], rl[PG]["median_s"]
        srv = statistics.median(rl[TR]["server_cpu_s"])
        cli = statistics.median(rl[TR]["client_cpu_s"])
        n = sizes["products"] + sizes["orders"]
        load = data["load"]
        out += [
            "",
            "### The reload",
            "",
            f"typedredis' reload took {a:.1f} s against {b:.2f} s for the table swap ({ratio(a, b)}).",
            f"The Redis main thread was busy for {srv:.1f} s of it, {srv / n * 1e6:.0f} {MICRO}s per object:",
            "each order is an `HSET`, two `SADD`s and four sorted-set entries (`amount`, `created_at`",
            "and the two compound indexes), plus its entries in the generation's `all` set and index",
            "registry, all written from Lua in script calls of 100 objects. The client spent",
            f"{cli:.1f} s encoding objects (msgpack values and sort keys), and this is not overlapped",
            "with the server's work: `reset` encodes a chunk of 3,200 objects, sends it and waits for",
            "the replies before it encodes the next. PostgreSQL's swap `COPY`s binary rows without",
            "maintaining any index row by row and then builds each B-tree once, by sorting; its",
            f"backend needed {statistics.median(rl[PG]['server_cpu_s']):.2f} s of CPU.",
            "",
            *reload_floor(rl),
            "What typedredis' reset buys for that time is a switch readers never wait for: they read the",
            "old generation until one O(1) switch. Other clients still wait behind each script call",
            *slowlog_sentence(rl),
            f"the longest `PING` during a reset took {fmt(max(rl[TR]['stall_ms']))} ms",
            f"(median over the reloads {fmt(statistics.median(rl[TR]['stall_ms']))} ms); a product read",
            f"from PostgreSQL waited up to {fmt(max(rl[PG]['stall_ms']))} ms (median",
            f"{fmt(statistics.median(rl[PG]['stall_ms']))} ms; it blocks from the first rename to the",
            "commit)."
            + (
                f" With nothing else running, the same probes saw at most {fmt(rl[TR]['idle_stall_ms'])} ms"
                f" and {fmt(rl[PG]['idle_stall_ms'])} ms."
                if "idle_stall_ms" in rl[TR]
                else ""
            ),
            f"In memory, Redis holds this dataset in {load['redis_used_memory'] / 2**20:.0f} MiB,",
            f"PostgreSQL in {load['postgres_bytes'] / 2**20:.0f} MiB of tables and indexes.",
        ]
    names = {k: SHORT[k].split(". ", 1)[1] for k in w.QUERY_KEYS}
    out += [
        "",
        "### In short",
        "",
        "On this machine and this data, typedredis was faster than a well-indexed PostgreSQL for "
        + (", ".join(names[k] for k in wins) or "none of the queries")
        + ", and slower for "
        + (", ".join(names[k] for k in losses) or "none")
        + ". It wins where it can answer from the sizes of its indexes; where it has to fetch and",
        "decode objects it pays the fixed cost of its query script and its per-object decoding in",
        "Python, which a C client and a server with compiled plans do not.",
    ]
    if rl:
        out.append(
            f"Its reload took {ratio(rl[TR]['median_s'], rl[PG]['median_s'])} the time of a table swap."
        )
    out += [
        f"Measured on a shared 2-core virtual machine: treat differences under about 1.3{X} as noise",
        "(the per-repetition medians are in the JSON), and the large ones as real.",
    ]
    return out


def render_all(data: dict[str, Any], out: Path, chart_path: Path) -> None:
    drawn = chart(data, chart_path)
    name = chart_path.name if drawn and chart_path.parent.resolve() == out.parent.resolve() else None
    if drawn and name is None:
        name = str(chart_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_page(data, name if drawn else None))
    print(f"wrote {out}" + (f" and {chart_path}" if drawn else ""))
