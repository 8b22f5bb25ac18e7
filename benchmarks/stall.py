"""How long each kind of query holds the server (issue 9): every script call stays short.

    python benchmarks/stall.py --n 1000000 --markdown benchmarks/stall-results.md

Fills a private redis-server with N objects, then runs each query kind while another process
PINGs the server in a loop. For each kind it reports the wall time, the number of script
calls, the longest server command (SLOWLOG, commands over 1 ms are logged), and the longest
PING round trip seen meanwhile. No call may come near 100 ms, and no client may get BUSY.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from harness import PingProbe, SlowLog, private_server

import typedredis
from typedredis import Indexed, Model, Sorted


class Item(Model, key="bench_stall"):
    grp: Indexed[int]  # 100 groups of N/100
    flag: Indexed[bool]  # half True
    rank: Sorted[int]  # 0 .. N-1
    name: str


def items(n: int) -> Iterator[Item]:
    for i in range(n):
        yield Item(grp=i % 100, flag=i % 2 == 0, rank=i, name=f"item-{i:08d}")


def measure(url: str, raw: redis.Redis, name: str, run: Callable[[], Any]) -> dict[str, Any]:
    """Run ``run`` while another process PINGs the server (harness.PingProbe) and SLOWLOG
    logs every command over 1 ms (harness.SlowLog)."""
    raw.config_resetstat()
    with SlowLog(raw, threshold_us=1000) as slow, PingProbe(url.removeprefix("unix://")) as probe:
        started = time.perf_counter()
        answer = run()
        elapsed = time.perf_counter() - started
    calls = int(raw.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
    return {
        "kind": name,
        "answer": answer,
        "seconds": elapsed,
        "calls": calls,
        "longest_ms": slow.longest * 1000,
        "slowest": slow.longest_command.split(" ")[0],
        "ping_ms": probe.worst * 1000,
        "errors": probe.errors,
        "pings": probe.pings,
    }


def kinds(n: int) -> list[tuple[str, Callable[[], Any]]]:
    f = Item.f
    return [
        ("count(): every object", lambda: Item.objects.count()),
        ("count(): a lone range (half)", lambda: Item.query(f.rank >= n // 2).count()),
        ("count(): a negation", lambda: Item.query(f.grp != 7).count()),
        ("count(): two big sets ANDed", lambda: Item.query(f.flag == True, f.grp.in_(range(50))).count()),  # noqa: E712
        ("count(): a set AND a range", lambda: Item.query(f.grp == 3, f.rank >= n // 2).count()),
        ("exists(): a negation", lambda: Item.query(f.grp != 7).exists()),
        ("all(): 1 % (one group)", lambda: len(Item.query(f.grp == 5).all())),
        ("all(): 50 % (flag)", lambda: len(Item.query(f.flag == True).all())),  # noqa: E712
        ("all(): every object", lambda: len(Item.objects.all())),
        ("pks(): a negation", lambda: len(Item.query(f.grp != 7).pks())),
        ("page of 20 by rank, offset n/2", lambda: len(Item.objects.order_by(f.rank).offset(n // 2).limit(20).all())),  # noqa: E501
        (
            "page of 20, a set, ordered, offset 1000",
            lambda: len(Item.query(f.grp == 9).order_by(f.rank.desc()).offset(1000).limit(20).all()),
        ),
        ("in_(): 100 000 values", lambda: Item.query(f.rank.in_(range(0, 200_000, 2))).count()),
        ("iter(): every object, batch 1000", lambda: sum(1 for _ in Item.objects.iter(batch=1000))),
        ("update(): 1 % (one group)", lambda: Item.query(f.grp == 11).update(name="x")),
        ("update(): 50 %", lambda: Item.query(f.flag == False).update(name="y")),  # noqa: E712
        ("delete(): 1 % (one group)", lambda: Item.query(f.grp == 13).delete()),
        ("delete(): every object", lambda: Item.objects.delete()),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    slowlog = ("--slowlog-log-slower-than", "1000", "--slowlog-max-len", "100000")
    with private_server(server_args=slowlog) as (server, raw, _):
        typedredis.connect(server.url)
        started = time.perf_counter()
        Item.reset(items(args.n))
        print(f"reset of {args.n:,} objects: {time.perf_counter() - started:.1f} s")
        rows = [measure(server.url, raw, name, run) for name, run in kinds(args.n)]
    lines = [
        f"| query ({args.n:,} objects) | answer | time | script calls | longest server command | longest PING |",  # noqa: E501
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['answer']:,} | {r['seconds'] * 1000:,.0f} ms | {r['calls']:,} | "
            f"{r['longest_ms']:.1f} ms ({r['slowest'] or '-'}) | {r['ping_ms']:.1f} ms |"
        )
        if r["errors"]:
            lines.append(f"| ERRORS seen by the PING client: {r['errors'][:3]} | | | | | |")
    print("\n".join(lines))
    print(f"longest server command overall: {max(r['longest_ms'] for r in rows):.1f} ms; "
          f"median longest PING: {statistics.median(r['ping_ms'] for r in rows):.1f} ms")
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
