"""Server time of query.lua on the PostgreSQL benchmark's queries, two versions side by side.

    python benchmarks/script_time.py                 # the working tree against HEAD
    python benchmarks/script_time.py --base 66980c5  # against another commit's scripts
    python benchmarks/script_time.py --quick         # tiny data, few rounds (the smoke test)

It loads the benchmark's dataset (postgres_workload.py: 20 000 products, 200 000 orders) into a
private redis-server, records the script calls each typedredis query sends (queries 2 to 5 of
benchmarks-postgres.md), then replays them against both versions of query.lua (lib.lua, or the
parts of it query.lua uses, + query.lua: from ``git show <base>:...`` and from the working
tree), alternating the versions round by round, and prints the median server time per query:
``INFO commandstats``, ``cmdstat_evalsha`` microseconds per call, the commands the script runs
included. No client
and no network time: what a query costs the shared, single-threaded server. Both versions must
take the arguments the working tree's client sends.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import postgres_workload as w  # noqa: E402
from harness import private_server  # noqa: E402

import typedredis  # noqa: E402
from typedredis import transports  # noqa: E402
from typedredis.scripts import script, used_lib  # noqa: E402

SCRIPTS = "typedredis/scripts"


def source(revision: str | None) -> bytes:
    """query.lua as ``revision`` (None: the working tree) sends it: after lib.lua whole, or,
    from the release that prunes it (typedredis.scripts.used_lib), after the parts it uses."""
    if revision is None:
        return script("query").source

    def show(path: str) -> bytes:
        return subprocess.run(
            ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True
        ).stdout

    lib, body = show(f"{SCRIPTS}/lib.lua"), show(f"{SCRIPTS}/query.lua")
    if b"def used_lib" in show(f"{SCRIPTS}/__init__.py"):
        lib = used_lib(lib, body)
    return lib + body


def recorded_calls(side: w.RedisSide, sizes: w.Sizes) -> dict[str, list[tuple[Any, ...]]]:
    """The EVALSHA commands of each query, as typedredis sends them (its transport watched)."""
    seen: list[tuple[Any, ...]] = []
    real = transports.SyncTransport.round_trip

    def watched(self: transports.SyncTransport, commands: list[Any]) -> list[Any]:
        seen.extend(commands)
        return real(self, commands)

    params = {q: w.params_seq(q, "script_time", sizes, 1)[0] for q in ("page", "newest", "count", "top")}
    calls = {}
    transports.SyncTransport.round_trip = watched  # type: ignore[method-assign]
    try:
        for query, p in params.items():
            w.call_of(side, query)(p)  # (a first call loads the script)
            seen.clear()
            w.call_of(side, query)(p)
            calls[query] = [tuple(c) for c in seen if c[0] in (b"EVALSHA", "EVALSHA")]
    finally:
        transports.SyncTransport.round_trip = real  # type: ignore[method-assign]
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="HEAD", help="the commit to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds per version and query (15)")
    parser.add_argument("--calls", type=int, default=500, help="pipelined calls per round (500)")
    parser.add_argument("--quick", action="store_true", help="tiny data, 3 rounds of 50 calls")
    args = parser.parse_args(argv)
    sizes = w.Sizes(20_000, 200_000, 5_000)
    if args.quick:
        sizes, args.rounds, args.calls = w.Sizes(300, 3_000, 50), 3, 50
    versions = {args.base: source(args.base), "working tree": source(None)}
    with private_server() as (server, r, _):
        client = typedredis.connect(server.url)
        w.reload_redis(w.product_rows(sizes, 1), w.order_rows(sizes, 1))
        side = w.RedisSide(server.url)
        calls = recorded_calls(side, sizes)
        side.close()
        client.close()
        shas = {name: r.script_load(src) for name, src in versions.items()}
        times: dict[tuple[str, str], list[float]] = {(v, q): [] for v in shas for q in calls}
        for _ in range(args.rounds):
            for version, sha in shas.items():
                for query, commands in calls.items():
                    r.config_resetstat()
                    pipe = r.pipeline(transaction=False)
                    for _ in range(args.calls):
                        for command in commands:
                            pipe.execute_command("EVALSHA", sha, *command[2:])
                    pipe.execute()
                    stats = r.info("commandstats")["cmdstat_evalsha"]
                    times[(version, query)].append(stats["usec"] / stats["calls"] * len(commands))
    print(f"server µs per query (median of {args.rounds} rounds of {args.calls} calls; sizes {sizes})")
    print(f"| query | {args.base} | working tree | ratio |")
    print("|---|---|---|---|")
    for query in calls:
        base, new = (statistics.median(times[(v, query)]) for v in shas)
        print(f"| {query} | {base:.1f} | {new:.1f} | {new / base:.2f}\N{MULTIPLICATION SIGN} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
