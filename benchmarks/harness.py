"""What every benchmark here measures with, written once: clocks, server probes, interleaved
rounds, medians, paired ratios and the markdown table.

It needs only the standard library and redis-py, so that ``worker.py`` can import it in the
peers' environment too. A workload is a `Bench`: a few `Side`s, each a callable that does the
timed work (and an untimed ``prepare``), one of them the baseline. `interleave` runs every side
of every bench once per round, in an order that rotates between rounds, and records per call
the wall time, the server main thread's CPU time (``INFO cpu``) and the longest single
command (``SLOWLOG``). `table` reports medians over the rounds and, for each side, the
median of its per-round ratios to the baseline (paired, so that drift of the machine between
rounds cancels out).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

X = "\u00d7"  # the multiplication sign of ratios
MICRO = "\u00b5"


# -- probes of one timed block ----------------------------------------------------------------


def server_cpu(client: redis.Redis) -> float:
    """Seconds of CPU the server's main thread has used so far."""
    info = client.info("cpu")
    user = info.get("used_cpu_user_main_thread", info["used_cpu_user"])
    system = info.get("used_cpu_sys_main_thread", info["used_cpu_sys"])
    return float(user) + float(system)


def used_memory(client: redis.Redis) -> int:
    """``used_memory`` once lazy frees have settled."""
    for _ in range(200):
        if int(client.info("memory").get("lazyfree_pending_objects", 0)) == 0:
            break
        time.sleep(0.01)
    return int(client.info("memory")["used_memory"])


class Timer:
    """Times one workload: wall clock, client CPU and server CPU."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def __enter__(self) -> Timer:
        gc.collect()
        self.server0 = server_cpu(self.client)
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.cpu0
        self.server_cpu = server_cpu(self.client) - self.server0

    def result(self, ops: int = 1, **extra: Any) -> dict[str, Any]:
        """Per-operation seconds (``seconds / ops``) plus the CPU split of the whole run."""
        return {
            "seconds": self.seconds / ops,
            "ops": ops,
            "total_seconds": self.seconds,
            "client_cpu": self.client_cpu,
            "server_cpu": self.server_cpu,
            **extra,
        }


def repeat_for(fn: Callable[[], Any], client: redis.Redis, budget: float, at_most: int) -> dict[str, Any]:
    """Run ``fn`` until ``budget`` seconds are spent (at least 3, at most ``at_most`` times)."""
    fn()  # warm-up: loads scripts, fills caches; not timed
    runs = 0
    with Timer(client) as timer:
        start = time.perf_counter()
        while runs < at_most and (runs < 3 or time.perf_counter() - start < budget):
            fn()
            runs += 1
    return timer.result(runs)


def _ping_loop(path: str, ready: Any, stop: Any, out: Any) -> None:
    """Child process: PING every ~0.5 ms and report the longest round trip.

    It runs with real-time priority where allowed (root), so that on a busy 2-core machine its
    wake-ups are not delayed by the scheduler: what it measures is then the server's stall.
    Its own stalls are kept out of the clock: the garbage collector is off (a forked child
    shares its parent's heap, possibly millions of objects, which a collection would walk and
    copy page by page), and the first PINGs (the connection, the first copies of the pages
    it touches) are not timed; it reports ready after them.
    """
    gc.disable()
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
    except (OSError, AttributeError):
        with contextlib.suppress(OSError):
            os.nice(-20)
    client = redis.Redis(unix_socket_path=path)
    for _ in range(20):
        client.ping()
    ready.set()
    worst = 0.0
    total = 0
    errors: list[str] = []
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            client.ping()
        except redis.RedisError as exc:  # a BUSY reply (a script past lua-time-limit) lands here
            errors.append(str(exc)[:80])
        took = time.perf_counter() - t0
        worst = max(worst, took)
        total += 1
        time.sleep(0.0005)
    out.send((worst, total, errors))


class PingProbe:
    """A PING loop in another process, running while the ``with`` block runs: afterwards
    ``worst`` (the longest round trip, seconds), ``pings`` and ``errors`` (error replies seen)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __enter__(self) -> PingProbe:
        ctx = multiprocessing.get_context("fork")
        self.stop, ready = ctx.Event(), ctx.Event()
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_ping_loop, args=(self.path, ready, self.stop, send), daemon=True)
        self.proc.start()
        if not ready.wait(30):
            raise RuntimeError(f"the PING probe of {self.path} did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.worst, self.pings, self.errors = self.recv.recv()
        self.proc.join()


class SlowLog:
    """The longest single command the server ran during the ``with`` block (SLOWLOG, >= 0.5 ms)."""

    def __init__(self, client: redis.Redis, threshold_us: int = 500) -> None:
        self.client = client
        self.threshold_us = threshold_us

    def __enter__(self) -> SlowLog:
        self.client.config_set("slowlog-log-slower-than", self.threshold_us)
        self.client.config_set("slowlog-max-len", 100000)
        self.client.slowlog_reset()
        return self

    def __exit__(self, *exc: object) -> None:
        # (without the probe's own commands: a SLOWLOG RESET of a long log is itself logged)
        logged = self.client.slowlog_get(100000)
        entries = [e for e in logged if _name(e["command"]) not in (b"SLOWLOG", b"CONFIG")]
        self.longest = max((e["duration"] for e in entries), default=0) / 1e6
        self.count = len(entries)
        scripts = sorted(e["duration"] for e in entries if _name(e["command"]) in (b"EVALSHA", b"EVAL"))
        #: the 99th percentile of the script calls' durations (only with a threshold of 0,
        #: which logs every call: above 0 the log holds only the slow ones)
        every = self.threshold_us == 0 and scripts
        self.p99 = scripts[min(len(scripts) - 1, int(len(scripts) * 0.99))] / 1e6 if every else 0.0
        self.longest_command = ""
        if entries:
            top = max(entries, key=lambda e: e["duration"])
            command = top["command"]
            text = command.decode(errors="replace") if isinstance(command, bytes) else str(command)
            names = re.findall(r"-- (\w+)\.lua:", text)  # typedredis' script headers
            if text.startswith("EVAL ") and names:
                text = f"EVAL of {names[-1]}.lua"
            self.longest_command = text[:80]
        self.client.config_set("slowlog-log-slower-than", 10000)


def _name(command: Any) -> bytes:
    text = command if isinstance(command, bytes) else str(command).encode()
    return text.split(b" ", 1)[0].upper()


# -- interleaved rounds -----------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One way of doing a workload: ``call`` is timed, ``prepare`` (before it) is not. ``call``
    returns how many operations it did (the table reports per operation) or None for one."""

    name: str
    call: Callable[[], int | None]
    prepare: Callable[[], None] | None = None
    check: Callable[[], None] | None = None  # after the call, untimed: raise if it did wrong


@dataclass(frozen=True)
class Bench:
    """A workload: its sides, the baseline's name, and how to print its times."""

    key: str
    label: str
    sides: tuple[Side, ...]
    base: str
    unit: str = "ms"
    scale: float = 1e3  # seconds -> unit


@dataclass
class Sample:
    seconds: float  # wall time per operation
    server: float  # the server main thread's CPU time per operation (seconds)
    longest: float  # the longest single command (seconds, SLOWLOG; 0 below the threshold)
    p99: float = 0.0  # the 99th percentile of the script calls' durations (seconds; see SlowLog)


@dataclass
class Results:
    samples: dict[str, dict[str, list[Sample]]] = field(default_factory=dict)  # bench -> side -> rounds

    def add(self, bench: str, side: str, sample: Sample) -> None:
        self.samples.setdefault(bench, {}).setdefault(side, []).append(sample)


def measure(client: redis.Redis, side: Side, slowlog_us: int = 500) -> Sample:
    """Run one side once: its prepare, then its call on the clock, then its check."""
    if side.prepare:
        side.prepare()
    gc.collect()
    with SlowLog(client, slowlog_us) as slow:
        cpu = server_cpu(client)
        start = time.perf_counter()
        ops = side.call() or 1
        seconds = time.perf_counter() - start
        cpu = server_cpu(client) - cpu
    if side.check:
        side.check()
    return Sample(seconds / ops, cpu / ops, slow.longest, slow.p99)


def interleave(
    client: redis.Redis, benches: Sequence[Bench], rounds: int, progress: bool = True, slowlog_us: int = 500
) -> Results:
    """Every side of every bench once per round; the order of the sides rotates per round.
    ``slowlog_us`` 0 logs every command, for a percentile of the script calls' durations."""
    results = Results()
    for n in range(rounds):
        for bench in benches:
            k = n % len(bench.sides)
            for side in bench.sides[k:] + bench.sides[:k]:
                results.add(bench.key, side.name, measure(client, side, slowlog_us))
        if progress:
            print(f"round {n + 1}/{rounds} done", flush=True)
    return results


# -- reporting --------------------------------------------------------------------------------


def fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}{X}" if r < 10 else f"{r:.0f}{X}" if r >= 100 else f"{r:.1f}{X}"


def paired_ratio(side: list[Sample], base: list[Sample]) -> float:
    """The median over rounds of side / baseline, each round's pair measured minutes apart at most."""
    return statistics.median(ratios(side, base))


def ratios(side: list[Sample], base: list[Sample]) -> list[float]:
    return sorted(s.seconds / b.seconds for s, b in zip(side, base, strict=True))


def spread(side: list[Sample], base: list[Sample]) -> str:
    """The middle half of the per-round ratios (from the 25th to the 75th percentile), or ""
    with fewer than 4 rounds."""
    values = ratios(side, base)
    if len(values) < 4:
        return ""
    low, _, high = statistics.quantiles(values, n=4, method="inclusive")
    return f" ({low:.2f}-{high:.2f})"


def table(results: Results, benches: Sequence[Bench]) -> str:
    """One row per (bench, side): median time, paired ratio to the bench's baseline (with the
    middle half of the per-round ratios), the server's CPU time (both per operation) and the
    longest single command of every round."""
    percentiles = any(s.p99 for sides in results.samples.values() for run in sides.values() for s in run)
    lines = [
        "| workload | side | median | ratio to the baseline | server CPU "
        + ("| script call p99 (median over rounds) " if percentiles else "")
        + "| longest command |",
        "|---|---|---|---|---|---|" + ("---|" if percentiles else ""),
    ]
    for bench in benches:
        per_side = results.samples.get(bench.key, {})
        base = per_side.get(bench.base)
        for side in bench.sides:
            samples = per_side.get(side.name)
            if not samples or not base:
                continue
            median = statistics.median(s.seconds for s in samples) * bench.scale
            ratio = (
                "baseline"
                if side.name == bench.base
                else fmt_ratio(paired_ratio(samples, base)) + spread(samples, base)
            )
            server = statistics.median(s.server for s in samples) * bench.scale
            longest = max(s.longest for s in samples) * 1e3
            p99 = f"| {fmt(statistics.median(s.p99 for s in samples) * 1e3)} ms " if percentiles else ""
            lines.append(
                f"| {bench.label} | {side.name} | {fmt(median)} {bench.unit} | {ratio} "
                f"| {fmt(server)} {bench.unit} {p99}| {'< 0.5' if longest == 0 else fmt(longest)} ms |"
            )
    return "\n".join(lines)


def as_json(results: Results) -> dict[str, Any]:
    return {
        bench: {side: [vars(s) for s in samples] for side, samples in sides.items()}
        for bench, sides in results.samples.items()
    }
