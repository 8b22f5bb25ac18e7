"""Peak client memory of a streamed `reset` (issue 8): a generator of N objects is never held whole.

    python benchmarks/reset_memory.py --n 1000000

Prints the peak of Python allocations (tracemalloc) during the reset, the process's peak RSS
growth, the time, and, for scale, the memory one list of the same objects takes.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc

from harness import private_server

import typedredis
from typedredis import Indexed, Model, Sorted


class Item(Model, key="bench_reset_memory"):
    group: Indexed[int]
    rank: Sorted[int]
    name: str


def items(n: int):  # type: ignore[no-untyped-def]
    for i in range(n):
        yield Item(group=i % 100, rank=i, name=f"item-{i:08d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    n = parser.parse_args().n
    with private_server() as (server, _, _):
        typedredis.connect(server.url)
        Item.reset(items(1000))  # warm up: scripts loaded, connection open
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tracemalloc.start()
        started = time.perf_counter()
        Item.reset(items(n))
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert Item.objects.count() == n
        tracemalloc.start()
        held = list(items(100_000))
        per_100k = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        del held
        print(f"reset of {n:,} objects from a generator: {elapsed:.1f} s (under tracemalloc)")
        print(f"peak traced Python memory during the reset: {peak / 2**20:.1f} MiB")
        print(f"peak RSS growth of the process: {(rss1 - rss0) / 1024:.1f} MiB")
        print(f"for scale, a list of 100,000 such objects: {per_100k / 2**20:.1f} MiB "
              f"(so {n:,} would be ~{per_100k * n / 100_000 / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
