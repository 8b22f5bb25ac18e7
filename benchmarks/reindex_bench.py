"""Online reindex, check and repair at scale (issue 11): throughput, and how long the server is
held meanwhile.

    python benchmarks/reindex_bench.py --n 1000000 --markdown benchmarks/reindex-results.md

Fills a private redis-server with N objects of a release whose fields are plain, then lets
the next release (an equality index, a sorted index and a compound index over both) build
them with ``Model.reindex()`` while another process PINGs the server in a loop (see
stall.py); then audits the result (``typedredis check``), loses one index entry and repairs
it (``typedredis repair``: an audit, the rebuild of that index, an audit); then the release
after drops the ``name`` field and ``reindex --migrate`` rewrites every object without it;
and, for
comparison, rebuilds the same dataset with ``Model.reset`` (the other way to make every
index complete). Reports objects per second, script calls, the
longest server command (SLOWLOG: commands over 1 ms are logged) and the longest PING.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any, ClassVar

import redis
from harness import private_server
from stall import measure  # a PING loop and SLOWLOG around one call (harness.py, via stall.py)

import typedredis
from typedredis import Compound, Indexed, Model, Sorted, model

KEY = "bench_reindex"


def release(version: int) -> Any:
    """The model as release ``version`` defines it (each release is a new process)."""
    model._registry.pop(KEY, None)
    if version == 1:

        class Item(Model, key=KEY):
            grp: str  # 1,000 groups
            rank: int
            name: str

        return Item

    if version == 2:

        class Item2(Model, key=KEY):
            grp: Indexed[str]
            rank: Sorted[int]
            name: str
            __indexes__: ClassVar[Any] = (Compound("grp", "rank"),)

        return Item2

    class Item3(Model, key=KEY):  # name removed
        grp: Indexed[str]
        rank: Sorted[int]
        __indexes__: ClassVar[Any] = (Compound("grp", "rank"),)

    return Item3


def items(cls: Any, n: int) -> Iterator[Any]:
    for i in range(n):
        yield cls(grp=f"g{i % 1000:03d}", rank=(i * 7919) % n, name=f"item-{i:08d}")


def slow_calls(raw: redis.Redis, model: Any) -> dict[str, Any]:
    """The script calls over 1 ms that SLOWLOG kept since `measure` reset it: how many took
    over 5 ms, and the slowest three (duration and script; ``model``'s own save script)."""
    from typedredis.scripts import script

    names = {script(name).sha.encode(): name for name in SCRIPTS}
    names[script("save", model.spec().save_schema).sha.encode()] = "save"
    entries = [e for e in raw.slowlog_get(100_000) if e["command"].startswith(b"EVALSHA")]
    durations = sorted(
        (entry["duration"] / 1000, names.get(entry["command"].split(b" ")[1], "?")) for entry in entries
    )
    over_5ms = sum(duration > 5 for duration, _ in durations)
    return {"over_1ms": len(entries), "over_5ms": over_5ms, "top": durations[-3:][::-1]}


SCRIPTS = (
    "reindex_begin", "reindex_clear", "reindex_read", "reindex_fill", "reindex_finish",
    "check_objects", "check_keys", "check_drop", "delete", "migrate_read",
)


def row(result: dict[str, Any], n: int) -> str:
    rate = n / result["seconds"]
    slow = result["slow"]
    top = ", ".join(f"{d:.1f} ms {name}" for d, name in slow["top"]) or "-"
    return (
        f"| {result['kind']} | {result['seconds']:,.1f} s | {rate:,.0f} objects/s | {result['calls']:,} "
        f"| {result['longest_ms']:.1f} ms | {slow['over_1ms']:,} / {slow['over_5ms']:,} | {top} "
        f"| {result['ping_ms']:.1f} ms |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--markdown", help="also write the table to this file")
    args = parser.parse_args()
    n = args.n
    slowlog = ("--slowlog-log-slower-than", "1000", "--slowlog-max-len", "100000")
    with private_server(server_args=slowlog) as (server, raw, _):
        typedredis.connect(server.url)
        v1 = release(1)
        v1.save_all(items(v1, n))
        memory = int(raw.info("memory")["used_memory"])
        v2 = release(2)
        results = [measure(server.url, raw, "reindex (online)", lambda: v2.reindex().indexed)]
        results[0]["slow"] = slow_calls(raw, v2)
        assert results[0]["answer"] == n, results[0]
        assert v2.query(v2.f.grp == "g007", v2.f.rank < n // 2).count() > 0
        added = int(raw.info("memory")["used_memory"]) - memory
        from typedredis import audit

        executor = v2._sync("benchmark")
        checking = "check (audit, read-only)"
        checked = measure(server.url, raw, checking, lambda: executor.run(audit.audit(v2.spec())))
        checked["slow"] = slow_calls(raw, v2)
        assert checked["answer"].ok, checked["answer"].problems[:3]
        checked["answer"] = checked["answer"].objects
        results.append(checked)
        gen = raw.hget(v2.spec().keys.meta, "gen") or b"0"
        raw.srem(v2.spec().keys.generation(int(gen)) + b"i:grp:\xa4g007", "8")  # one entry lost
        repairing = "repair (one entry lost)"
        repaired = measure(server.url, raw, repairing, lambda: executor.run(audit.repair(v2.spec())))
        repaired["slow"] = slow_calls(raw, v2)
        done = repaired["answer"]
        assert done.after.ok and done.rebuilt.built == ("e:grp",), (done.rebuilt, done.after.problems[:3])
        results.append(repaired)
        v3 = release(3)
        migrating = "reindex --migrate (a field removed)"
        results.append(measure(server.url, raw, migrating, lambda: v3.reindex(migrate=True).migrated))
        results[-1]["slow"] = slow_calls(raw, v3)
        assert results[-1]["answer"] == n, results[-1]
        assert raw.hkeys(v3.spec().keys.object(int(gen), 8)) == [b"grp", b"rank", b"~rank"]
        v2 = release(2)
        rewrite = "reset (the same dataset, rewritten)"
        results.append(measure(server.url, raw, rewrite, lambda: v2.reset(items(v2, n))))
        results[-1]["slow"] = slow_calls(raw, v2)
        lines = [
            f"| {n:,} objects | time | throughput | script calls | longest server command "
            "| calls over 1 ms / over 5 ms | the slowest three | longest PING |",
            "|---|---|---|---|---|---|---|---|",
            *(row(result, n) for result in results),
            "",
            f"The reindex built `e:grp`, `s:rank` and the compound `grp_rank`; the indexes added "
            f"{added / n:,.0f} bytes per object.",
        ]
        print("\n".join(lines))
        for result in results:
            if result["errors"]:
                print(f"{result['kind']}: PING errors {result['errors'][:3]}")
        if args.markdown:
            with open(args.markdown, "w") as out:
                out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
