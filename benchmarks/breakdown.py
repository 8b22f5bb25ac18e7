"""Where typedredis spends its time, workload by workload, next to raw redis-py.

    python benchmarks/breakdown.py --n 100000 [--top 12] [--libs raw,typedredis]

For each workload of `worker.py` it prints the wall time, the client CPU (with the top functions of
a cProfile run of exactly that workload, by own time), the server's main-thread CPU, and
`INFO commandstats` (calls and usec per call) of the commands the server ran, so that client-side
encoding/decoding, server-side script time and round trips can be told apart. It runs on its own
private redis-server; it is a diagnostic, not the benchmark (cProfile slows the client down).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
import worker


def measure(name: str, fn: Callable[[], Any], client: Any, top: int, profile: bool) -> None:
    client.config_resetstat()
    server0 = harness.server_cpu(client)
    prof = cProfile.Profile() if profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.runcall(fn)
    else:
        fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    server = harness.server_cpu(client) - server0
    stats = harness.commandstats(client)
    cmds = ", ".join(
        f"{k} {calls}x {usec / calls:.0f} us"
        for k, (calls, usec) in sorted(stats.items(), key=lambda kv: -kv[1][1])
        if k not in ("info", "config|resetstat")
    )
    print(
        f"\n== {name}: wall {wall * 1e3:.1f} ms, client CPU {cpu * 1e3:.1f} ms,"
        f" server CPU {server * 1e3:.1f} ms"
    )
    print(f"   server commands (usec per call incl. commands inside scripts): {cmds}")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        lines = [line for line in out.getvalue().splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print("\n".join("   " + line for line in lines[start : start + top + 1]))


def profile_lib(lib: str, socket: str, client: Any, args: argparse.Namespace) -> None:
    client.flushall(asynchronous=False)
    adapter = worker.ADAPTERS[lib](socket, client)
    objs = adapter.build(worker.make_rows(args.n, 1))
    print(f"\n######## {lib} (N = {args.n:,})")
    profile = not args.no_cprofile
    pks: list[Any] = []
    measure("bulk insert", lambda: pks.extend(adapter.insert(objs)), client, args.top, profile)
    sample = [pks[i] for i in random.Random(5).sample(range(args.n), 1000)]
    adapter.get(sample[0])
    measure("1000 gets", lambda: [adapter.get(pk) for pk in sample], client, args.top, profile)
    for name in ("eq", "and_not", "count"):
        fn = getattr(adapter, name)
        fn()
        k = args.repeat_queries * (10 if name == "count" else 1)
        measure(f"{name} x{k}", lambda fn=fn, k=k: [fn() for _ in range(k)], client, args.top, profile)
    loaded = adapter.load(sample)
    categories = worker.CATEGORIES
    measure(
        "1000 updates",
        lambda: [adapter.update(o, categories[i % 100]) for i, o in enumerate(loaded)],
        client,
        args.top,
        profile,
    )
    new = adapter.build(worker.make_rows(args.n, 2))
    measure("reset", lambda: adapter.reset(new), client, args.top, profile)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--libs", default="raw,typedredis")
    parser.add_argument("--repeat-queries", type=int, default=20)
    parser.add_argument("--no-cprofile", action="store_true", help="timings and commandstats only")
    args = parser.parse_args()
    with harness.private_server(None) as (server, client, _):
        for lib in args.libs.split(","):
            profile_lib(lib, str(server.socket), client, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
