"""Streaming a large result with Query.iter keeps client memory bounded (measured)."""

from __future__ import annotations

import gc
import sys
import tracemalloc

import redis

from typedredis import Indexed, Model, Sorted

from .support import key

N = 200_000


class Reading(Model, key=key("reading")):
    sensor: Indexed[str]
    value: Sorted[int]
    note: str = "x" * 100


def test_iter_over_200k_objects_stays_bounded(client: redis.Redis) -> None:
    batch = [Reading(sensor=f"s{i % 10}", value=i) for i in range(N)]
    Reading.save_all(batch)
    one_object = _size_of(Reading.get(1))
    del batch
    gc.collect()

    tracemalloc.start()
    try:
        seen = 0
        previous = -1
        for reading in Reading.objects.order_by(Reading.f.value).iter(batch=1000):
            assert reading.value > previous
            previous = reading.value
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == N
    everything = one_object * N  # what all() would hold at once, at the least
    print(f"\niter peak {peak / 1e6:.1f} MB for {N} objects; all() would hold >= {everything / 1e6:.0f} MB")
    assert peak < 40e6, f"peak {peak / 1e6:.1f} MB"
    assert peak < everything / 5


def _size_of(obj: Reading) -> int:
    """A lower bound of the memory one decoded object takes."""
    values = sum(sys.getsizeof(v) for v in obj.__dict__.values())
    return sys.getsizeof(obj) + sys.getsizeof(obj.__dict__) + values
