"""Moving a model's slot to another primary while it is used, and a failover (issue 13).

    python benchmarks/cluster_migration.py --n 10000 100000 --markdown benchmarks/cluster-results.md

Starts a private local Redis Cluster (`typedredis.testing.RedisCluster`: 3 primaries, no
replicas), fills one model with N objects, then runs a writer (a save of one changed object
per call) and a reader (a count of an equality AND a range) in threads of their own while the
model's slot is moved to another primary and back, the way ``redis-cli --cluster reshard``
does (SETSLOT IMPORTING/MIGRATING, MIGRATE 100 keys at a time, SETSLOT NODE). Reports per N:
each move's time, the calls the writer and the reader completed per second before and during
the moves, their longest wait, and that no call failed and the indexes are exact afterwards.

Then, on a cluster whose primaries each have a replica, the same writer and reader run while
the primary holding the model is killed (SIGKILL): how long until its replica took over and
the writer's saves went through again, the errors the calls raised (a save in flight at the
kill raises OutcomeUnknown), how many acknowledged saves the new primary lacks (replication
is asynchronous), and whether the indexes are exact.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import threading
import time
from typing import Any

from harness import markdown

import typedredis
from typedredis import Indexed, Model, Sorted
from typedredis.audit import audit
from typedredis.cluster import key_slot
from typedredis.testing import RedisCluster


class Item(Model, key="bench_cluster"):
    grp: Indexed[int]
    rank: Sorted[int]
    name: str


class Worker(threading.Thread):
    """Runs ``call`` in a loop; records when each call that succeeded ended and how long it
    took, and each error with its time."""

    def __init__(self, call: Any) -> None:
        super().__init__(daemon=True)
        self.call, self.stop = call, threading.Event()
        self.ends: list[tuple[float, float]] = []
        self.errors: list[tuple[float, str]] = []

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                self.call()
            except Exception as exc:  # reported
                self.errors.append((time.perf_counter(), type(exc).__name__))
                continue
            self.ends.append((time.perf_counter(), time.perf_counter() - started))

    def rate(self, start: float, end: float) -> tuple[float, float]:
        """Calls per second completed in [start, end], and the longest call that overlapped it
        (a call held up by the move ends after it)."""
        done = sum(1 for at, _ in self.ends if start <= at <= end)
        longest = max((took for at, took in self.ends if at >= start and at - took <= end), default=0.0)
        return done / (end - start), longest


class Load:
    """N objects, and a writer (one save per call) and a reader (a count) running on them."""

    def __init__(self, n: int) -> None:
        Item.reset(Item(grp=i % 100, rank=i, name=f"item-{i}") for i in range(n))
        self.n, self.counter = n, iter(range(10**9))
        self.acknowledged: dict[int, str] = {}
        """The name each pk was last saved with, for the saves that returned."""
        self.writer, self.reader = Worker(self.write), Worker(self.read)
        self.writer.start()
        self.reader.start()

    def write(self) -> None:
        i = next(self.counter)
        pk = 1 + (i * 7919) % self.n
        Item(pk=pk, grp=i % 100, rank=i, name=f"w{i}").save()
        self.acknowledged[pk] = f"w{i}"

    def read(self) -> None:
        Item.query(Item.f.grp == 5, Item.f.rank >= self.n // 2).count()

    def stop(self) -> list[str]:
        """Stop both workers; the names of the errors they met."""
        for worker in (self.writer, self.reader):
            worker.stop.set()
            worker.join()
        return [name for _, name in self.writer.errors + self.reader.errors]


def run(n: int) -> dict[str, Any]:
    with RedisCluster(primaries=3) as cluster:
        client = cluster.client()
        typedredis.connect(client)
        load = Load(n)
        writer, reader = load.writer, load.reader
        slot = key_slot(Item.spec().keys.meta)
        source = cluster.node_of_slot(slot)
        target = next(node for node in cluster.primaries() if node is not source)
        time.sleep(2.0)
        before = time.perf_counter()
        moves = []
        for node in (target, source):
            started = time.perf_counter()
            cluster.migrate_slot(slot, node)
            moves.append(time.perf_counter() - started)
            time.sleep(0.5)
        ended = time.perf_counter()
        errors = load.stop()
        steady = (before - 2.0 + 0.2, before)
        during = [(before, before + moves[0]), (before + moves[0] + 0.5, before + moves[0] + 0.5 + moves[1])]
        result: dict[str, Any] = {
            "n": n,
            "moves": moves,
            "errors": errors,
        }
        for name, worker in (("writer", writer), ("reader", reader)):
            result[name] = {
                "steady": worker.rate(*steady)[0],
                "during": statistics.mean(worker.rate(*span)[0] for span in during),
                "longest": max(worker.rate(*span)[1] for span in during),
            }
        result["exact"] = Item._sync("check").run(audit(Item.spec())).ok
        assert ended > before
        typedredis.disconnect()
        client.close()
        return result


def table(results: list[dict[str, Any]]) -> str:
    header = [
        "objects", "move there", "move back", "writer calls/s: steady / during", "longest save",
        "reader calls/s: steady / during", "longest query", "errors", "indexes exact",
    ]  # fmt: skip
    rows = []
    for r in results:
        w, q = r["writer"], r["reader"]
        rows.append([
            f"{r['n']:,}",
            f"{r['moves'][0]:.2f} s",
            f"{r['moves'][1]:.2f} s",
            f"{w['steady']:,.0f} / {w['during']:,.0f}",
            f"{w['longest'] * 1000:,.0f} ms",
            f"{q['steady']:,.0f} / {q['during']:,.0f}",
            f"{q['longest'] * 1000:,.0f} ms",
            str(len(r["errors"])),
            "yes" if r["exact"] else "NO",
        ])  # fmt: skip
    return markdown(header, rows)


def failover(n: int) -> dict[str, Any]:
    with RedisCluster(primaries=3, replicas=1) as cluster:
        client = cluster.client()
        typedredis.connect(client)
        load = Load(n)
        writer, reader, acknowledged = load.writer, load.reader, load.acknowledged
        primary = cluster.node_of_slot(key_slot(Item.spec().keys.meta))
        time.sleep(1.0)
        killed = time.perf_counter()
        cluster.kill(primary)
        cluster.wait_for_failover(primary)
        promoted = time.perf_counter() - killed
        time.sleep(1.0)
        errors = load.stop()
        ends = [killed, *sorted(at for at, _ in writer.ends if at > killed)]
        paused = max(later - earlier for earlier, later in itertools.pairwise(ends))
        stored = {obj.pk: obj.name for obj in Item.get_many(list(acknowledged))}
        lost = sum(1 for pk, name in acknowledged.items() if stored.get(pk) != name)
        result = {
            "n": n,
            "promoted": promoted,
            "paused": paused,
            "longest save": writer.rate(killed, killed + promoted)[1],
            "longest query": reader.rate(killed, killed + promoted)[1],
            "errors": {name: errors.count(name) for name in sorted(set(errors))},
            "lost": lost,
            "exact": Item._sync("check").run(audit(Item.spec())).ok,
        }
        typedredis.disconnect()
        client.close()
        return result


def failover_table(results: list[dict[str, Any]]) -> str:
    header = [
        "objects", "replica took over after", "longest time without a save", "longest save",
        "longest query", "errors raised", "acknowledged saves lost", "indexes exact",
    ]  # fmt: skip
    rows = []
    for r in results:
        errors = ", ".join(f"{count} {name}" for name, count in r["errors"].items()) or "none"
        rows.append([
            f"{r['n']:,}",
            f"{r['promoted']:.2f} s",
            f"{r['paused']:.2f} s",
            f"{r['longest save'] * 1000:,.0f} ms",
            f"{r['longest query'] * 1000:,.0f} ms",
            errors,
            str(r["lost"]),
            "yes" if r["exact"] else "NO",
        ])  # fmt: skip
    return markdown(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[10_000])
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args()
    results = [run(n) for n in args.n]
    text = table(results) + "\n\nA failover (the primary holding the model killed):\n\n"
    text += failover_table([failover(n) for n in args.n])
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(
                "Measured with `python benchmarks/cluster_migration.py --n "
                + " ".join(str(n) for n in args.n)
                + f" --markdown {args.markdown}`\n\n"
                + text
                + "\n"
            )


if __name__ == "__main__":
    main()
