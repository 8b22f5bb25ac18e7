"""The asyncio executor against the sync one, and against raw ``redis.asyncio`` (issue 12).

    python benchmarks/asyncio_bench.py                      # N = 100 000, 7 rounds (~2.5 min)
    python benchmarks/asyncio_bench.py --n 2000 --rounds 1 --calls 50 --ops 5   # the smoke size
    python benchmarks/asyncio_bench.py --render benchmarks/asyncio-results.json  # rewrite the page
    python benchmarks/asyncio_bench.py --profile            # also profile; where the asyncio time goes

It starts one private ``redis-server`` (`typedredis.testing.RedisServer`: unix socket, no
persistence), saves N ``Member`` objects (``grp: Indexed[str]`` of N / 100 values, ~100 objects
each) with ``Member.save_all``, and measures two operations, ``Member.get(pk)`` and
``Member.query(Member.f.grp == g).limit(20).all()``, on six sides:

- *typedredis sync*: ``Member.get(pk)`` / ``.all()`` on a ``redis.Redis`` client;
- *typedredis asyncio*: ``await Member.aget(pk)`` / ``await ....aall()`` on a
  ``redis.asyncio.Redis`` client;
- *raw sync* / *raw asyncio*: redis-py's ``execute_command`` (sync, and ``redis.asyncio``;
  a pipeline of the two commands of a get) sending the very commands typedredis sends
  (recorded from typedredis' transport: the get's ``HMGET`` and ``HGET``, the query's
  ``EVALSHA`` with the same KEYS and ARGV), then decoding the reply into the same ``Member`` objects
  (``msgpack`` and pydantic validation), which every caller of the raw client has to do;
- *raw sync, connection* / *raw asyncio, connection*: the same commands packed by hiredis and
  sent on a connection of the client's pool (``send_packed_command``, ``read_response``), as
  typedredis' transport does: the fastest way redis-py offers; the same decoding.

*Latency* (one call at a time): every round runs, for each operation, a block of ``--calls``
sequential calls on each side (the order of the sides rotates between rounds; every side gets
the same parameters), each call timed on its own; medians over every call. *Throughput*:
``--tasks`` (100) asyncio tasks on one client, each doing ``--ops`` calls, for the three
asyncio sides in turn; ops/s per round, median of rounds.

It writes ``benchmarks/asyncio-results.json`` (every block's numbers) and the page
``docs/explanation/benchmarks-asyncio.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import itertools
import json
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import (  # noqa: E402
    X,
    commandstats,
    fmt,
    fmt_ratio,
    git_commit,
    loadavg,
    markdown,
    median_or_none,
    private_server,
    progress,
    rotated,
    save_results,
    write,
)

RESULTS = HERE / "asyncio-results.json"
PAGE = ROOT / "docs" / "explanation" / "benchmarks-asyncio.md"

KEY = "async_member"
GROUP_SIZE = 100  # objects per value of `grp`
LIMIT = 20  # the equality query's page
POOL_SIZE = 100  # max_connections of every pool (redis-py 8's default for a plain pool)
INSERT_CHUNK = 50_000
DASH = "\u2013"
TARGET = 1.15  # issue 12: async latency within 1.15x of sync
BASE = datetime(2024, 1, 1, tzinfo=UTC)
WORKLOADS = {
    "get": "`Member.get(pk)` / `await Member.aget(pk)`",
    "eq": "`Member.query(Member.f.grp == g).limit(20).all()` / `await ....aall()`",
}
SIDES = (
    "typedredis sync",
    "typedredis asyncio",
    "raw sync",
    "raw asyncio",
    "raw sync, connection",
    "raw asyncio, connection",
)


# -- the dataset ------------------------------------------------------------------------------


def define_model() -> type[Any]:
    from typedredis import Indexed, Model

    class Member(Model, key=KEY):
        grp: Indexed[str]
        name: str
        email: str
        age: int
        score: float
        active: bool
        joined: datetime

    return Member


def groups_of(n: int) -> list[str]:
    return [f"g{i:05d}" for i in range(max(1, n // GROUP_SIZE))]


def build(Member: type[Any], n: int, start: int, stop: int, seed: int) -> list[Any]:
    rnd = random.Random(f"{seed}:{start}")
    groups = groups_of(n)
    return [
        Member(
            grp=groups[rnd.randrange(len(groups))],
            name=f"member {i}",
            email=f"member{i}@example.org",
            age=rnd.randrange(18, 90),
            score=rnd.random() * 100,
            active=rnd.random() < 0.8,
            joined=BASE + timedelta(seconds=rnd.randrange(365 * 86_400)),
        )
        for i in range(start, stop)
    ]


# -- raw redis-py -----------------------------------------------------------------------------


class Raw:
    """redis-py (sync and ``redis.asyncio``) sending the commands typedredis sends, decoding the
    reply's rows document (``[pk, value1, ..., valuen, pk, ...]``, each value one msgpack
    document) with ``msgpack`` and validating each row into a ``Member`` with its pydantic
    validator: the same objects typedredis returns, by the shortest path redis-py offers."""

    def __init__(
        self,
        Member: type[Any],
        sync: Any,
        aio: Any,
        get_batch: Callable[[int], list[tuple[Any, ...]]],
        eq: dict[str, tuple[Any, ...]],
    ) -> None:
        import hiredis
        import msgpack

        self.sync, self.aio = sync, aio
        self.get_batch, self.eq = get_batch, eq
        fields = list(Member.spec().stored)
        width = len(fields) + 1
        validate = Member.__pydantic_validator__.validate_python
        unpackb, ExtType = msgpack.unpackb, msgpack.ExtType

        def ext(code: int, data: bytes) -> Any:
            if code == 2:  # typedredis' datetime ext type: ISO 8601 text
                return datetime.fromisoformat(data.decode())
            return ExtType(code, data)

        def decode(flat: list[Any]) -> list[Any]:
            out = []
            for at in range(0, len(flat), width):
                data = {
                    name: unpackb(value, ext_hook=ext, raw=False)
                    for name, value in zip(fields, flat[at + 1 : at + width], strict=True)
                }
                data["pk"] = flat[at]
                out.append(validate(data))
            return out

        self.decode = decode
        self.pack = hiredis.pack_command

    def one(self, pk: int, replies: list[Any]) -> Any:
        """The object of a get's replies (its HMGET's values; the HGET of gen is not checked)."""
        return self.decode([pk, *replies[0]])[0]

    def get(self, pk: int) -> Any:
        pipe = self.sync.pipeline(transaction=False)
        for command in self.get_batch(pk):
            pipe.execute_command(*command)
        return self.one(pk, pipe.execute())

    def query(self, grp: str) -> list[Any]:
        return self.decode(self.sync.execute_command(*self.eq[grp])[4])

    async def aget(self, pk: int) -> Any:
        pipe = self.aio.pipeline(transaction=False)
        for command in self.get_batch(pk):
            pipe.execute_command(*command)
        return self.one(pk, await pipe.execute())

    async def aquery(self, grp: str) -> list[Any]:
        return self.decode((await self.aio.execute_command(*self.eq[grp]))[4])

    # The connection level: the command packed by hiredis, written and read on a connection of
    # the client's pool (``send_packed_command``, ``read_response``), skipping redis-py's
    # argument encoding, response callbacks and retry wrapper: what typedredis' transport does.

    def _trip(self, *commands: tuple[Any, ...]) -> Any:
        pool = self.sync.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_packed_command([b"".join(self.pack(c) for c in commands)])
            replies = [conn.read_response(disable_decoding=True) for _ in commands]
            return replies if len(commands) > 1 else replies[0]
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)

    async def _atrip(self, *commands: tuple[Any, ...]) -> Any:
        pool = self.aio.connection_pool
        conn = await pool.get_connection()
        try:
            await conn.send_packed_command([b"".join(self.pack(c) for c in commands)])
            replies = [await conn.read_response(disable_decoding=True) for _ in commands]
            return replies if len(commands) > 1 else replies[0]
        except BaseException:
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)

    def cget(self, pk: int) -> Any:
        return self.one(pk, self._trip(*self.get_batch(pk)))

    def cquery(self, grp: str) -> list[Any]:
        return self.decode(self._trip(self.eq[grp])[4])

    async def acget(self, pk: int) -> Any:
        return self.one(pk, await self._atrip(*self.get_batch(pk)))

    async def acquery(self, grp: str) -> list[Any]:
        return self.decode((await self._atrip(self.eq[grp]))[4])


def record_commands(sync_client: Any, call: Callable[[], Any]) -> list[list[tuple[Any, ...]]]:
    """The batches of commands typedredis' transport sent during ``call()``."""
    from typedredis.connection import _executor

    transport = _executor(sync_client).transport
    sent: list[list[tuple[Any, ...]]] = []
    original = transport.round_trip

    def recording(commands: list[tuple[Any, ...]]) -> list[Any]:
        sent.append(list(commands))
        return original(commands)

    transport.round_trip = recording  # type: ignore[method-assign]
    try:
        call()
    finally:
        del transport.round_trip  # back to the class's method
    return sent


def capture(
    Member: type[Any], sync_client: Any, groups: list[str]
) -> tuple[Callable[[int], list[tuple[Any, ...]]], dict[str, Any]]:
    """typedredis' own commands: the round trip of a get by pk (``HMGET`` of the object's hash,
    then ``HGET`` of the current generation; checked on three pks) as a function of the pk, and
    the ``EVALSHA`` of query.lua for every group (each one round trip)."""
    Member.get(1)  # loads get.lua and query.lua, and learns the generation (then gets are plain)
    Member.query(Member.f.grp == groups[0]).limit(LIMIT).all()
    prefix: bytes | None = None
    rest: set[tuple[Any, ...]] = set()
    for pk in (1, 2, 3):
        (batch,) = record_commands(sync_client, lambda pk=pk: Member.get(pk))
        read, check = batch
        key = read[1] if read[0] == "HMGET" else b""
        if not key.endswith(b":o:" + str(pk).encode()) or check[0] != "HGET":
            raise SystemExit(f"unexpected get commands {batch!r}")
        prefix = key[: -len(str(pk))]
        rest.add((read[2:], check))
    if len(rest) != 1 or prefix is None:
        raise SystemExit(f"get commands differ by more than the pk: {rest!r}")
    ((fields, check),) = rest
    known = prefix

    def get_batch(pk: int) -> list[tuple[Any, ...]]:
        return [("HMGET", known + str(pk).encode(), *fields), check]

    eq = {}
    for grp in groups:
        sent = record_commands(
            sync_client, lambda grp=grp: Member.query(Member.f.grp == grp).limit(LIMIT).all()
        )
        if len(sent) != 1 or len(sent[0]) != 1:
            raise SystemExit(f"the query for {grp} took {len(sent)} round trips; raw would not do the same")
        eq[grp] = sent[0][0]
    return get_batch, eq


# -- measuring ---------------------------------------------------------------------------------


COMMANDS: dict[str, tuple[str, ...]] = {"get": ("hmget", "hget"), "eq": ("evalsha",)}
"""The commands each call of a workload sends: a get is an HMGET and an HGET, a query one
EVALSHA (whose own commands INFO counts too, and are left out)."""


class Metered:
    """A block of ``calls`` calls of workload ``key``, after a ``gc.collect()``: afterwards
    ``client_cpu``, this process's CPU time per call (seconds), and ``server_us``, the server's
    time per call in the workload's `COMMANDS` (``INFO commandstats``; None unless they ran
    exactly as often as the block's calls make them: then nothing else ran)."""

    def __init__(self, admin: Any, key: str, calls: int) -> None:
        self.admin, self.key, self.calls = admin, key, calls

    def stats(self) -> tuple[int, int]:
        """(calls, usec) so far of the workload's commands, summed."""
        stats = commandstats(self.admin)
        both = [stats.get(name, (0, 0)) for name in COMMANDS[self.key]]
        return sum(calls for calls, _ in both), sum(usec for _, usec in both)

    def __enter__(self) -> Metered:
        gc.collect()
        self.c0, self.s0 = time.process_time(), self.stats()
        return self

    def __exit__(self, *exc: object) -> None:
        c1, s1 = time.process_time(), self.stats()
        self.client_cpu = (c1 - self.c0) / self.calls
        alone = s1[0] - self.s0[0] == len(COMMANDS[self.key]) * self.calls
        self.server_us = (s1[1] - self.s0[1]) / self.calls if alone else None


def cycled(items: list[Any], count: int) -> list[Any]:
    """``items`` over and over, ``count`` of them."""
    return list(itertools.islice(itertools.cycle(items), count))


def loop_iterations(prof: cProfile.Profile) -> int:
    """The event loop iterations (calls of ``BaseEventLoop._run_once``) a profile saw."""
    entries = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    return sum(v[1] for k, v in entries.items() if k[2] == "_run_once")


class Side:
    """One side of one workload: ``fn(param)`` (a plain function or a coroutine function)."""

    def __init__(self, name: str, fn: Callable[[Any], Any], is_async: bool) -> None:
        self.name, self.fn, self.is_async = name, fn, is_async


async def timed_block(side: Side, params: list[Any]) -> list[float]:
    perf = time.perf_counter
    fn = side.fn
    times = []
    if side.is_async:
        for p in params:
            t0 = perf()
            await fn(p)
            times.append(perf() - t0)
    else:
        for p in params:
            t0 = perf()
            fn(p)
            times.append(perf() - t0)
    return times


async def latency(
    args: argparse.Namespace,
    admin: Any,
    sides: dict[str, list[Side]],
    params: dict[str, Callable[[int], list[Any]]],
) -> dict[str, Any]:
    """Per round, per workload, a block of ``args.calls`` sequential calls on each side."""
    raw: dict[tuple[str, str], dict[str, list[Any]]] = {}
    started = time.monotonic()
    for rnd in range(args.rounds):
        for wi, (key, workload) in enumerate(sides.items()):
            seq = params[key](rnd)
            for side in rotated(workload, rnd + wi):
                with Metered(admin, key, len(seq)) as meter:
                    times = await timed_block(side, seq)
                entry = raw.setdefault((key, side.name), {"times": [], "client_cpu": [], "server": []})
                entry["times"].append(times)
                entry["client_cpu"].append(meter.client_cpu)
                if meter.server_us is not None:
                    entry["server"].append(meter.server_us)
        progress("latency", rnd + 1, args.rounds, started)
    out: dict[str, Any] = {}
    for (key, name), entry in raw.items():
        flat = [t for block in entry["times"] for t in block]
        out.setdefault(key, {})[name] = {
            "calls": len(flat),
            "median_us": statistics.median(flat) * 1e6,
            "p90_us": statistics.quantiles(flat, n=10)[-1] * 1e6 if len(flat) >= 10 else None,
            "round_medians_us": [statistics.median(b) * 1e6 for b in entry["times"]],
            "client_cpu_us": statistics.median(entry["client_cpu"]) * 1e6,
            "server_us": median_or_none(entry["server"]),
        }
    return out


async def throughput(
    args: argparse.Namespace,
    admin: Any,
    sides: dict[str, list[Side]],
    params: dict[str, Callable[[int], list[Any]]],
) -> dict[str, Any]:
    """Per round, per workload: a burst of ``args.tasks`` tasks doing ``args.ops`` calls each on
    every asyncio side (the order rotating between rounds)."""
    results: dict[str, Any] = {}
    started = time.monotonic()

    async def burst(side: Side, seq: list[Any]) -> float:
        async def task(part: list[Any]) -> None:
            for p in part:
                await side.fn(p)

        parts = [seq[i :: args.tasks] for i in range(args.tasks)]
        t0 = time.perf_counter()
        await asyncio.gather(*(task(part) for part in parts))
        return time.perf_counter() - t0

    for key, workload in sides.items():  # warm-up: every pool opens its connections
        for side in workload:
            if side.is_async:
                await burst(side, cycled(params[key](-1), args.tasks * 2))
    for rnd in range(args.rounds):
        for wi, (key, workload) in enumerate(sides.items()):
            seq = cycled(params[key](1000 + rnd), args.tasks * args.ops)
            for side in rotated([side for side in workload if side.is_async], rnd + wi):
                with Metered(admin, key, len(seq)) as meter:
                    wall = await burst(side, seq)
                entry = results.setdefault(key, {}).setdefault(
                    side.name, {"ops_s_rounds": [], "client_cpu_us_rounds": [], "server_us_rounds": []}
                )
                entry["ops_s_rounds"].append(len(seq) / wall)
                entry["client_cpu_us_rounds"].append(meter.client_cpu * 1e6)
                if meter.server_us is not None:
                    entry["server_us_rounds"].append(meter.server_us)
        progress("throughput", rnd + 1, args.rounds, started)
    for per in results.values():
        for entry in per.values():
            entry["ops_s"] = statistics.median(entry["ops_s_rounds"])
            entry["client_cpu_us"] = statistics.median(entry["client_cpu_us_rounds"])
            entry["server_us"] = median_or_none(entry["server_us_rounds"])
    return results


async def profile(
    sides: dict[str, list[Side]], params: dict[str, Callable[[int], list[Any]]], calls: int
) -> dict[str, Any]:
    """cProfile of a block of sequential calls on each side: where each spends its time, and
    how many event loop iterations (``BaseEventLoop._run_once``) one call takes."""
    out: dict[str, Any] = {}
    for key, workload in sides.items():
        seq = cycled(params[key](2000), calls)
        for side in workload:
            prof = cProfile.Profile()
            prof.enable()
            await timed_block(side, seq)
            prof.disable()
            buf = io.StringIO()
            stats = pstats.Stats(prof, stream=buf)
            stats.sort_stats("tottime").print_stats(25)
            entries = stats.stats  # type: ignore[attr-defined]
            wall = max(v[3] for v in entries.values())  # timed_block's cumulative time
            out.setdefault(key, {})[side.name] = {
                "us_per_call": wall / len(seq) * 1e6,
                "function_calls_per_call": sum(v[1] for v in entries.values()) / len(seq),
                "loop_iterations_per_call": loop_iterations(prof) / len(seq) if side.is_async else None,
                "top": buf.getvalue(),
            }
            print(f"\n== {key} / {side.name}: {wall / len(seq) * 1e6:.1f} µs per call under cProfile")
            print("\n".join(line for line in buf.getvalue().splitlines()[:36] if line.strip()))
    return out


ANATOMY_ASYNC = {"stream", "aconn", "aconn_nt", "atransport", "acore", "aget", "aget_nt"}
"""The asyncio pieces of `anatomy` (the others are sync); see ANATOMY_ROWS for what each is."""


async def anatomy(
    args: argparse.Namespace,
    path: str,
    Member: type[Any],
    get_batch: Callable[[int], list[tuple[Any, ...]]],
    sync_client: Any,
    aio_client: Any,
) -> dict[str, Any]:
    """The pieces of one ``get`` round trip, sync and asyncio, timed interleaved (wall and
    client CPU per call, and event loop iterations per call): where the asyncio time goes."""
    import socket

    import hiredis
    import redis
    import redis.asyncio

    from typedredis.connection import _executor
    from typedredis.executor import AsyncExecutor, SyncExecutor
    from typedredis.querying import get_one

    pack = hiredis.pack_command
    spec = Member.spec()
    sx, ax = _executor(sync_client), _executor(aio_client)
    canned = sx.transport.round_trip(get_batch(1))

    class Answers:  # a transport that answers at once, with the reply of pk 1
        def round_trip(self, commands: list[Any]) -> list[Any]:
            return canned

    class AsyncAnswers:
        async def round_trip(self, commands: list[Any]) -> list[Any]:
            return canned

    no_io = SyncExecutor(sync_client)
    no_io.transport, no_io._checked = Answers(), True  # type: ignore[assignment]
    ano_io = AsyncExecutor(aio_client)
    ano_io.transport, ano_io._checked = AsyncAnswers(), True  # type: ignore[assignment]
    untimed = redis.asyncio.Redis(unix_socket_path=path, socket_timeout=None)
    ax_nt = AsyncExecutor(untimed)
    await ax_nt.run(get_one(spec, 1, ax_nt.generations))  # (learns the generation: then plain)
    no_io.generations.update(sx.generations)
    ano_io.generations.update(sx.generations)

    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    reader_s = hiredis.Reader()

    def packed(pk: int) -> bytes:
        return b"".join(pack(command) for command in get_batch(pk))

    def bare_socket(pk: int) -> Any:
        sock.sendall(packed(pk))
        replies = []
        while len(replies) < 2:
            while (reply := reader_s.gets()) is False:
                reader_s.feed(sock.recv(65536))
            replies.append(reply)
        return replies

    stream_r, stream_w = await asyncio.open_unix_connection(path)
    reader_a = hiredis.Reader()

    async def bare_stream(pk: int) -> Any:
        stream_w.write(packed(pk))
        replies = []
        while len(replies) < 2:
            while (reply := reader_a.gets()) is False:
                reader_a.feed(await stream_r.read(65536))
            replies.append(reply)
        return replies

    held_client = redis.Redis(unix_socket_path=path)
    conn = held_client.connection_pool.get_connection()
    held_aclient = redis.asyncio.Redis(unix_socket_path=path)
    aconn = await held_aclient.connection_pool.get_connection()
    aconn_nt = await untimed.connection_pool.get_connection()

    def held(pk: int) -> Any:
        conn.send_packed_command([packed(pk)])
        return [conn.read_response(disable_decoding=True) for _ in range(2)]

    async def aheld(pk: int, c: Any = aconn) -> Any:
        await c.send_packed_command([packed(pk)])
        return [await c.read_response(disable_decoding=True) for _ in range(2)]

    fns: dict[str, Callable[[int], Any]] = {
        "socket": bare_socket,
        "stream": bare_stream,
        "conn": held,
        "aconn": aheld,
        "aconn_nt": lambda pk: aheld(pk, aconn_nt),
        "transport": lambda pk: sx.transport.round_trip(get_batch(pk)),
        "atransport": lambda pk: ax.transport.round_trip(get_batch(pk)),
        "core": lambda pk: no_io.run(get_one(spec, 1, no_io.generations)),
        "acore": lambda pk: ano_io.run(get_one(spec, 1, ano_io.generations)),
        "get": Member.get,
        "aget": Member.aget,
        "aget_nt": lambda pk: ax_nt.run(get_one(spec, pk, ax_nt.generations)),
    }
    cases = [Side(key, fn, key in ANATOMY_ASYNC) for key, fn in fns.items()]
    wall: dict[str, list[float]] = {c.name: [] for c in cases}
    cpu: dict[str, list[float]] = {c.name: [] for c in cases}
    for rep in range(args.rounds):
        rnd = random.Random(f"{args.seed}:anatomy:{rep}")
        seq = [rnd.randrange(1, args.n + 1) for _ in range(args.calls)]
        for case in rotated(cases, rep):
            gc.collect()
            c0 = time.process_time()
            times = await timed_block(case, seq)
            cpu[case.name].append((time.process_time() - c0) / len(seq) * 1e6)
            wall[case.name].append(statistics.median(times) * 1e6)
    out: dict[str, Any] = {}
    for case in cases:
        loops = None
        if case.is_async:
            prof = cProfile.Profile()
            prof.enable()
            await timed_block(case, list(range(1, 501)))
            prof.disable()
            loops = loop_iterations(prof) / 500
        out[case.name] = {
            "wall_us": statistics.median(wall[case.name]),
            "client_cpu_us": statistics.median(cpu[case.name]),
            "loop_iterations_per_call": loops,
        }
        print(
            f"  anatomy {case.name:<11} wall {out[case.name]['wall_us']:7.1f} µs  "
            f"cpu {out[case.name]['client_cpu_us']:7.1f} µs  loop iterations {loops}",
            flush=True,
        )
    sock.close()
    stream_w.close()
    await stream_w.wait_closed()
    conn.disconnect()
    held_client.close()
    await aconn.disconnect()
    await aconn_nt.disconnect()
    await held_aclient.aclose()
    await ax_nt.close()
    await untimed.aclose()
    return out


# -- the run ----------------------------------------------------------------------------------


async def run_async(args: argparse.Namespace, server: Any, admin: Any, data: dict[str, Any]) -> None:
    import redis
    import redis.asyncio

    import typedredis

    Member = define_model()
    path = str(server.socket)
    sync_client = redis.Redis(unix_socket_path=path)
    aio_client = redis.asyncio.Redis(unix_socket_path=path)
    typedredis.connect(sync_client)
    typedredis.connect(aio_client)
    raw_sync = redis.Redis(unix_socket_path=path)
    # raw asyncio: redis-py's blocking pool with the settings typedredis' own pool takes from
    # aio_client (typedredis/pools.py), and redis-py's retries
    template = redis.asyncio.Redis(unix_socket_path=path).connection_pool
    raw_aio = redis.asyncio.Redis(
        connection_pool=redis.asyncio.BlockingConnectionPool(
            connection_class=template.connection_class,
            max_connections=template.max_connections,
            timeout=None,
            **template.connection_kwargs,
        )
    )
    if template.max_connections != POOL_SIZE:
        raise SystemExit(f"this redis-py's default pool holds {template.max_connections} connections")
    data["pools"] = {
        "typedredis asyncio": _pool(typedredis.connection._executor(aio_client).transport.pool),
        "raw asyncio": _pool(raw_aio.connection_pool),
    }

    # -- load ----------------------------------------------------------------------------------
    base_mem = int(admin.info("memory")["used_memory"])
    saving = 0.0
    for start in range(0, args.n, INSERT_CHUNK):
        objs = build(Member, args.n, start, min(args.n, start + INSERT_CHUNK), args.seed)
        t0 = time.perf_counter()
        Member.save_all(objs)
        saving += time.perf_counter() - t0
        del objs
    data["insert_seconds"] = saving
    data["bytes_per_object"] = (int(admin.info("memory")["used_memory"]) - base_mem) / args.n
    print(f"saved {args.n:,} objects in {saving:.1f} s", flush=True)

    groups = groups_of(args.n)
    present = [g for g in groups if Member.query(Member.f.grp == g).count() >= LIMIT]
    data["groups"], data["groups_used"] = len(groups), len(present)
    get_batch, eq_commands = capture(Member, sync_client, present)
    data["commands"] = {
        "get": " ; ".join(" ".join(_show(a) for a in command) for command in get_batch(1)).replace(
            ":o:1 ", ":o:<pk> "
        ),
        "eq": " ".join(_show(a) for a in eq_commands[present[0]]),
    }
    raw = Raw(Member, raw_sync, raw_aio, get_batch, eq_commands)

    # -- the sides, and the same answer on every side -----------------------------------------------
    async def tr_aget(pk: int) -> Any:
        return await Member.aget(pk)

    async def tr_aquery(grp: str) -> list[Any]:
        return await Member.query(Member.f.grp == grp).limit(LIMIT).aall()

    sides = {
        "get": [
            Side("typedredis sync", Member.get, False),
            Side("typedredis asyncio", tr_aget, True),
            Side("raw sync", raw.get, False),
            Side("raw asyncio", raw.aget, True),
            Side("raw sync, connection", raw.cget, False),
            Side("raw asyncio, connection", raw.acget, True),
        ],
        "eq": [
            Side("typedredis sync", lambda grp: Member.query(Member.f.grp == grp).limit(LIMIT).all(), False),
            Side("typedredis asyncio", tr_aquery, True),
            Side("raw sync", raw.query, False),
            Side("raw asyncio", raw.aquery, True),
            Side("raw sync, connection", raw.cquery, False),
            Side("raw asyncio, connection", raw.acquery, True),
        ],
    }

    def pk_params(rnd: int) -> list[int]:
        rnd_ = random.Random(f"{args.seed}:get:{rnd}")
        return [rnd_.randrange(1, args.n + 1) for _ in range(args.calls)]

    def eq_params(rnd: int) -> list[str]:
        rnd_ = random.Random(f"{args.seed}:eq:{rnd}")
        return [rnd_.choice(present) for _ in range(args.calls)]

    params: dict[str, Callable[[int], list[Any]]] = {"get": pk_params, "eq": eq_params}
    checked = 0
    for key, workload in sides.items():
        for p in params[key](-2)[:50]:
            answers = []
            for side in workload:
                result = side.fn(p)
                answers.append(await result if side.is_async else result)
            expect = answers[0]
            if key == "eq" and len(expect) != LIMIT:
                raise SystemExit(f"the query for {p} returned {len(expect)} objects, not {LIMIT}")
            for side, got in zip(workload, answers, strict=True):
                if got != expect:
                    raise SystemExit(
                        f"MISMATCH {key}({p!r}): {side.name} {got!r} != typedredis sync {expect!r}"
                    )
            checked += 1
    data["checked"] = checked
    print(f"checked {checked} calls: the four sides return equal objects", flush=True)

    admin.config_resetstat()
    data["loadavg"].append(loadavg())
    print(
        f"latency: {args.rounds} rounds of 2 x 6 blocks of {args.calls} calls (load {loadavg()})", flush=True
    )
    data["latency"] = await latency(args, admin, sides, params)
    data["loadavg"].append(loadavg())
    print(
        f"throughput: {args.rounds} rounds of 2 x 3 bursts of {args.tasks} tasks x {args.ops} calls "
        f"(load {loadavg()})",
        flush=True,
    )
    data["throughput"] = await throughput(args, admin, sides, params)
    data["loadavg"].append(loadavg())
    if args.profile:
        data["profile"] = await profile(sides, params, args.profile_calls)
        data["anatomy"] = await anatomy(args, path, Member, get_batch, sync_client, aio_client)
        data["loadavg"].append(loadavg())

    await typedredis.adisconnect()
    await aio_client.aclose()
    await raw_aio.aclose()
    sync_client.close()
    raw_sync.close()


def _pool(pool: Any) -> str:
    retry = pool.connection_kwargs.get("retry")
    retries = getattr(retry, "_retries", "?")
    return (
        f"{type(pool).__name__}(max_connections={pool.max_connections}, timeout={pool.timeout!r}), "
        f"{pool.connection_class.__name__}, retries={retries}"
    )


def _show(arg: Any) -> str:
    """One argument of a command, for the page: bytes as text (escaped where not printable)."""
    if isinstance(arg, bytes):
        text = arg.decode(errors="backslashreplace")
        if not text:
            return "''"
        return "".join(c if c.isprintable() and c != " " else f"\\x{ord(c):02x}" for c in text)
    return str(arg)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {"loadavg": [loadavg()], "commits": [git_commit()]}
    with private_server(args.server) as (server, admin, about):
        data.update(about)  # server_version, server_binary
        loop = asyncio.new_event_loop()
        data["event_loop"] = f"{type(loop).__module__}.{type(loop).__qualname__}"
        loop.close()
        asyncio.run(run_async(args, server, admin, data))
    data["commits"].append(git_commit())
    return data


# -- reporting --------------------------------------------------------------------------------


def ratios(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The ratios of the page, per operation; the raw baseline is the faster of redis-py's two
    ways (client API or connection level) in this run, for each of sync and asyncio."""
    out: dict[str, dict[str, Any]] = {}
    for key in WORKLOADS:
        lat, tp = data["latency"].get(key), data["throughput"].get(key)
        if not lat or not tp:
            continue

        def med(side: str, lat: dict[str, Any] = lat) -> float:
            return float(lat[side]["median_us"])

        raw_sync = min(("raw sync", "raw sync, connection"), key=med)
        raw_async = min(("raw asyncio", "raw asyncio, connection"), key=med)
        raw_tp = max(("raw asyncio", "raw asyncio, connection"), key=lambda side, tp=tp: tp[side]["ops_s"])
        out[key] = {
            "async_over_sync": med("typedredis asyncio") / med("typedredis sync"),
            "async_over_sync_rounds": [
                a / s
                for a, s in zip(
                    lat["typedredis asyncio"]["round_medians_us"],
                    lat["typedredis sync"]["round_medians_us"],
                    strict=True,
                )
            ],
            "raw_async_over_sync": med("raw asyncio") / med("raw sync"),
            "raw_connection_async_over_sync": med("raw asyncio, connection") / med("raw sync, connection"),
            "raw_sync_baseline": raw_sync,
            "sync_over_raw": med("typedredis sync") / med(raw_sync),
            "raw_async_baseline": raw_async,
            "async_over_raw": med("typedredis asyncio") / med(raw_async),
            "async_extra_us": med("typedredis asyncio") - med("typedredis sync"),
            "raw_async_extra_us": med("raw asyncio, connection") - med("raw sync, connection"),
            "raw_throughput_baseline": raw_tp,
            "throughput_over_raw": tp["typedredis asyncio"]["ops_s"] / tp[raw_tp]["ops_s"],
            "throughput_over_raw_client": tp["typedredis asyncio"]["ops_s"] / tp["raw asyncio"]["ops_s"],
        }
    return out


ANATOMY_ROWS = (
    ("the floor: a bare socket / a bare asyncio stream, hiredis parsing", "socket", "stream"),
    ("a redis-py connection held (no pool): `send_packed_command`, `read_response`", "conn", "aconn"),
    ("the same, asyncio connection made with `socket_timeout=None`", None, "aconn_nt"),
    ("typedredis' transport (its pool, send, read, release)", "transport", "atransport"),
    ("typedredis' executor, operation and decoding, without I/O", "core", "acore"),
    ("the whole call: `Member.get(pk)` / `await Member.aget(pk)`", "get", "aget"),
    ("`aget` on a client made with `socket_timeout=None`", None, "aget_nt"),
)


def us(x: float | None) -> str:
    """Microseconds for the page ("—" for none); below 0.05 (a difference near zero, or below
    it) with its sign."""
    if x is None:
        return "—"
    return f"{fmt(x)} µs" if x >= 0.05 else f"{x:+.1f} µs"


def tenths(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}"


def anatomy_lines(data: dict[str, Any], anat: dict[str, Any]) -> list[str]:
    def cell(key: str | None, what: str) -> str:
        return "—" if key is None else us(anat[key][what])

    rows = [
        [
            label,
            cell(sync, "wall_us"),
            cell(sync, "client_cpu_us"),
            cell(aio, "wall_us"),
            cell(aio, "client_cpu_us"),
            tenths(anat[aio]["loop_iterations_per_call"] if aio else None),
        ]
        for label, sync, aio in ANATOMY_ROWS
    ]

    def cpu(key: str) -> float:
        return float(anat[key]["client_cpu_us"])

    total = cpu("aget") - cpu("get")
    # the extra CPU of aget over get, split into parts that add up to it (each an asyncio
    # piece's cost over the piece below it, minus the same for sync)
    loop = cpu("stream") - cpu("socket")
    rest = (cpu("aconn_nt") - cpu("stream")) - (cpu("conn") - cpu("socket"))
    timeouts = cpu("aconn") - cpu("aconn_nt")
    pool = (cpu("atransport") - cpu("aconn_nt")) - (cpu("transport") - cpu("conn"))
    above = (cpu("aget") - cpu("atransport")) - (cpu("get") - cpu("transport"))
    ratio = anat["aget"]["wall_us"] / anat["get"]["wall_us"]
    ratio_nt = anat["aget_nt"]["wall_us"] / anat["get"]["wall_us"]
    return [
        "## Where the asyncio time goes",
        "",
        "`--profile` also times the pieces of one `get` round trip on their own, sync and asyncio,",
        f"interleaved ({data['args']['rounds']} rounds of {data['args']['calls']:,} calls each, after the",
        "loops above, so at another moment of the machine: compare within this table). Wall time is",
        "the median call, client CPU the block's CPU time per call; event loop iterations are",
        "counted with cProfile:",
        "",
        markdown(
            [
                "piece",
                "sync wall",
                "sync client CPU",
                "asyncio wall",
                "asyncio client CPU",
                "event loop iterations",
            ],
            rows,
            compact=True,
        ),
        "",
        f"Here `aget` took {fmt_ratio(ratio)} the wall time of `get`, and {us(total)} more client CPU. That",
        "extra CPU splits into (each part: what a piece costs over the piece below it in asyncio,",
        "minus the same in sync):",
        "",
        f"- **the event loop itself**, {us(loop)}: bare stream against bare socket; an `epoll` wait",
        "  and the callbacks that wake the task, two loop iterations a call at least;",
        f"- **the rest of `redis.asyncio`'s connection** over a bare stream, {us(rest)}: its",
        "  stream reader and parser against redis-py's blocking socket reads (a connection made",
        "  with `socket_timeout=None`, as typedredis makes its own);",
        f"- **the pool and typedredis' transport**, {us(pool)}: typedredis' own pools take an idle",
        "  connection from a list and check it has nothing to read, which asyncio does with an",
        "  awaited read attempt under a zero timeout where sync polls the socket; the transport",
        "  then runs the round trip under one `asyncio.timeout` (the client's `socket_timeout`);",
        f"- **above the transport**, {us(above)}: the executor, the operation and the decoding",
        "  are the same code either way, and cost the same without I/O (the asyncio executor",
        f"  drives `get_one` in {us(cpu('acore'))}, the sync one in {us(cpu('core'))}); with real I/O",
        "  the asyncio side pays more, presumably for resuming a deeper chain of coroutine frames",
        "  (`aget`, `AsyncExecutor.run`, `round_trip`, redis-py's read) at every loop iteration and",
        "  for colder caches after each; this benchmark does not pin it down further.",
        "",
        "One part typedredis does not pay: **redis-py's per-command timeouts**,",
        f"{us(timeouts)} here: a held `redis.asyncio` connection with a `socket_timeout` against",
        "one without. On Python 3.11 its `send_packed_command` wraps every write in",
        "`asyncio.wait_for`, which runs it in a new task (one more loop iteration or three), and",
        "`read_response` opens an `asyncio.timeout` for every read. typedredis' asyncio transport",
        "makes its connections without a `socket_timeout` and puts the client's on the whole round",
        "trip instead (the raw asyncio sides above pay it: they use the client's settings).",
        "",
        f"On a client made with `socket_timeout=None`, `aget` took {fmt_ratio(ratio_nt)} the wall time of",
        "`get` in this table.",
        "",
    ]


def render(data: dict[str, Any]) -> str:
    args = data["args"]
    n = args["n"]
    mach = data["machine"]
    lat, tp, rat = data["latency"], data["throughput"], data["ratios"]

    def spread(xs: list[float], unit: str = " µs") -> str:
        return f"{fmt(min(xs))}{DASH}{fmt(max(xs))}{unit}" if len(xs) > 1 else "—"

    def mark(r: float) -> str:
        return "✓" if r <= TARGET else "✗"

    # -- the ratios ------------------------------------------------------------------------
    ratio_rows = []
    for key in WORKLOADS:
        r = rat[key]
        a = r["async_over_sync"]
        ratio_rows.append(
            [
                key,
                f"**{fmt_ratio(a)}** {mark(a)} ({spread(r['async_over_sync_rounds'], X)})",
                fmt_ratio(r["raw_async_over_sync"]),
                fmt_ratio(r["raw_connection_async_over_sync"]),
                fmt_ratio(r["sync_over_raw"]),
                fmt_ratio(r["async_over_raw"]),
                f"**{r['throughput_over_raw']:.2f}** ({r['throughput_over_raw_client']:.2f})",
            ]
        )
    ratio_table = markdown(
        [
            "operation",
            f"typedredis asyncio / typedredis sync (target ≤ 1.15{X}; per round)",
            "raw asyncio / raw sync (client API)",
            "raw asyncio / raw sync (connection)",
            "typedredis sync / fastest raw sync",
            "typedredis asyncio / fastest raw asyncio",
            "throughput, 100 tasks: typedredis / fastest raw (/ raw client API)",
        ],
        ratio_rows,
        compact=True,
    )

    # -- latency -------------------------------------------------------------------------------
    lat_table = markdown(
        ["operation", "side", "median", "round medians", "p90", "client CPU", "server"],
        [
            [
                label if side == SIDES[0] else "",
                side,
                f"**{us(e['median_us'])}**",
                spread(e["round_medians_us"]),
                us(e["p90_us"]),
                us(e["client_cpu_us"]),
                us(e["server_us"]),
            ]
            for key, label in WORKLOADS.items()
            for side, e in ((side, lat[key][side]) for side in SIDES)
        ],
        compact=True,
    )

    # -- throughput ----------------------------------------------------------------------------
    tp_rows = []
    for key, label in WORKLOADS.items():
        present = [side for side in SIDES if side in tp[key]]
        for side in present:
            e = tp[key][side]
            tp_rows.append(
                [
                    label if side == present[0] else "",
                    side,
                    f"**{e['ops_s']:,.0f}**",
                    f"{min(e['ops_s_rounds']):,.0f}{DASH}{max(e['ops_s_rounds']):,.0f}",
                    us(e["client_cpu_us"]),
                    us(e["server_us"]),
                ]
            )
    tp_table = markdown(
        [
            "operation",
            f"side ({args['tasks']} tasks, one client)",
            "ops/s (median)",
            "rounds",
            "client CPU per op",
            "server per op",
        ],
        tp_rows,
        compact=True,
    )

    g, e = rat["get"], rat["eq"]
    met = [key for key in WORKLOADS if rat[key]["async_over_sync"] <= TARGET]
    verdict = (
        "met for both"
        if len(met) == len(WORKLOADS)
        else "missed for both"
        if not met
        else f"met for {met[0]} only"
    )
    headline = (
        f"**In short:** one `await Member.aget(pk)` took {us(lat['get']['typedredis asyncio']['median_us'])} "
        f"against {us(lat['get']['typedredis sync']['median_us'])} for `Member.get(pk)` "
        f"(**{fmt_ratio(g['async_over_sync'])}**), and the 20-object equality query "
        f"{us(lat['eq']['typedredis asyncio']['median_us'])} against "
        f"{us(lat['eq']['typedredis sync']['median_us'])} "
        f"(**{fmt_ratio(e['async_over_sync'])}**): the 1.15{X} target is {verdict}. Raw redis-py pays "
        f"{fmt_ratio(g['raw_connection_async_over_sync'])} and "
        f"{fmt_ratio(e['raw_connection_async_over_sync'])} "
        "for the same move from `redis.Redis` to `redis.asyncio` at the connection level. With "
        f"{args['tasks']} concurrent tasks on one client, typedredis served "
        f"{tp['get']['typedredis asyncio']['ops_s']:,.0f} `aget`/s, "
        f"**{g['throughput_over_raw']:.2f}** of the fastest raw `redis.asyncio` "
        f"({tp['get'][g['raw_throughput_baseline']]['ops_s']:,.0f}/s), and "
        f"{tp['eq']['typedredis asyncio']['ops_s']:,.0f} queries/s, "
        f"**{e['throughput_over_raw']:.2f}** of raw "
        f"({tp['eq'][e['raw_throughput_baseline']]['ops_s']:,.0f}/s)."
    )

    prof = data.get("profile")
    prof_lines: list[str] = []
    if prof:
        prof_lines = [
            "## Profile",
            "",
            f"`--profile`: cProfile of {args['profile_calls']} sequential calls per side (cProfile",
            "slows every Python function call, so read these as proportions, not timings; the",
            "functions themselves are in the JSON):",
            "",
            markdown(
                [
                    "operation",
                    "side",
                    "profiled wall time per call",
                    "Python function calls per call",
                    "event loop iterations per call",
                ],
                [
                    [
                        key,
                        side,
                        us(p["us_per_call"]),
                        f"{p['function_calls_per_call']:.0f}",
                        tenths(p["loop_iterations_per_call"]),
                    ]
                    for key in WORKLOADS
                    for side, p in ((side, prof[key][side]) for side in SIDES)
                ],
                compact=True,
            ),
            "",
        ]
    anat = data.get("anatomy")
    if anat:
        prof_lines += anatomy_lines(data, anat)

    commits = data.get("commits") or ["?"]
    commit = (
        commits[0] if commits[0] == commits[-1] else f"{commits[0]} to {commits[-1]} (changed during the run)"
    )
    loads = ", ".join(data["loadavg"])
    pools = data["pools"]
    out = [
        "# Benchmark: the asyncio executor",
        "",
        "What `await Member.aget(pk)` and `await query.aall()` cost next to their sync twins, and",
        f"what {args['tasks']} concurrent asyncio tasks get out of one `redis.asyncio` client with",
        "typedredis against raw `redis.asyncio` doing the same commands. The numbers answer the",
        f"performance part of issue 12: single-request latency of the asyncio executor within 1.15{X}",
        "of the sync one, and its throughput against raw `redis.asyncio`.",
        "",
        f"*Generated by `python benchmarks/asyncio_bench.py --n {n} --rounds {args['rounds']} --calls "
        f"{args['calls']} --tasks {args['tasks']} --ops {args['ops']}"
        f"{' --profile' if prof else ''}` on {data['date']} in {data['duration']:.0f} s; load average "
        f"(1, 5, 15 min) before, between and after the loops: {loads} on {mach['cores']} cores.*",
        "",
        f"The model, `Member`, has `grp: Indexed[str]` ({data['groups']:,} values, {GROUP_SIZE} objects",
        "each on average), `name: str`, `email: str`, `age: int`, `score: float`, `active: bool`",
        f"and `joined: datetime`; {n:,} objects, saved with `Member.save_all` in "
        f"{data['insert_seconds']:.1f} s ({data['bytes_per_object']:.0f} bytes per object in Redis).",
        "",
        "## Results",
        "",
        headline,
        "",
        "### Ratios",
        "",
        ratio_table,
        "",
        "Latency ratios are ratios of medians (lower is better); in parentheses, the range of the",
        "same ratio computed round by round (the two blocks of a ratio ran seconds apart).",
        "Throughput ratios are typedredis' ops/s over raw's (higher is better; 1.00 is raw's speed).",
        "*Fastest raw* is, for each operation and mode, the faster of the two raw variants below in",
        "this run.",
        "",
        f"In absolute terms the asyncio executor adds {fmt(g['async_extra_us'])} µs to a `get` and "
        f"{fmt(e['async_extra_us'])} µs",
        f"to a query; raw `redis.asyncio` at the connection level adds {fmt(g['raw_async_extra_us'])} µs and "
        f"{fmt(e['raw_async_extra_us'])} µs",
        "to the same commands. The extra is a cost per round trip (the event loop and `redis.asyncio`,",
        "see below), so the ratio is worst for the shortest call, and it moves with the speed of the",
        "machine's round trip at the moment: when this virtual machine is less busy, the sync `get`",
        "gets faster and the same extra weighs more.",
        "",
        "### Latency: one call at a time",
        "",
        lat_table,
        "",
        f"Every row is the median of {args['rounds'] * args['calls']:,} calls ({args['rounds']} rounds of",
        f"{args['calls']:,}); *round medians* is the range of the per-round medians (the machine's",
        "drift). *Client CPU* is the benchmark process's CPU time per call (building the command, the",
        "event loop, redis-py, decoding, validation); *server* is the server time of the",
        "commands of a call (`INFO commandstats`: a get's `HMGET` and `HGET`, a query's `EVALSHA`).",
        "The rest of the wall time is the round trip on",
        "the unix socket: two context switches, on a machine of two cores.",
        "",
        f"### Throughput: {args['tasks']} tasks on one client",
        "",
        tp_table,
        "",
        f"Each round gives each asyncio side one burst of {args['tasks']} tasks doing {args['ops']} calls",
        f"each ({args['tasks'] * args['ops']:,} calls), all started at once with `asyncio.gather`; ops/s",
        "is the calls over the burst's wall time, the median of the rounds. One process, one event",
        "loop, one core of Python: the client's CPU time per call bounds the throughput, so the ratio",
        "is close to the inverse ratio of client CPU per call.",
        "",
        *prof_lines,
        "## What is compared",
        "",
        "- **typedredis sync**: `Member.get(pk)` and `Member.query(Member.f.grp == g).limit(20).all()`",
        "  on a `redis.Redis(unix_socket_path=...)` client bound with `typedredis.connect`.",
        "- **typedredis asyncio**: `await Member.aget(pk)` and `await ....aall()` on a",
        "  `redis.asyncio.Redis(unix_socket_path=...)` client bound with `typedredis.connect`.",
        "- **raw sync**, **raw asyncio** (the client API): `client.execute_command(...)` of redis-py",
        "  and `redis.asyncio` (a pipeline of a get's two commands) with the very commands",
        "  typedredis sends, recorded from typedredis'",
        "  transport before the run (for the query, for every value of `grp`); then `msgpack.unpackb`",
        "  of the rows document and of each field, and `Member.__pydantic_validator__.validate_python`",
        "  of each row: the same `Member` objects typedredis returns (checked on every side for",
        f"  {data['checked']} calls before timing).",
        "- **raw sync, connection**, **raw asyncio, connection**: the same commands packed with",
        "  `hiredis.pack_command`, written and read on a connection taken from the client's pool",
        "  (`send_packed_command`, `read_response(disable_decoding=True)`), as typedredis' transport",
        "  does, skipping redis-py's argument encoding, response callbacks and retry wrapper; the same",
        "  decoding. This is the fastest way redis-py offers to run these commands.",
        "",
        "A `get` is two plain commands in one round trip (the object's `HMGET`, then the `HGET` of",
        "the current generation that vouches for it: see the consistency page, *get without a",
        "script*); a query is one `EVALSHA`. For `get`:",
        "",
        f"`{data['commands']['get']}`",
        "",
        "and for the query (the first value of `grp`):",
        "",
        f"`{data['commands']['eq']}`",
        "",
        "Raw is thus typedredis' own round trip without typedredis (no query building, no operation,",
        "no executor, no reply policy): the gap is what the library costs on top of the same round",
        "trip. How that round trip compares with the smallest commands a hand-written client would",
        "send (`HMGET`, `SMEMBERS`) is on the [main benchmark page](benchmarks.md).",
        "",
        "**Connection pools.** redis-py 8 gives a client made without `max_connections` a plain pool",
        f"of at most {POOL_SIZE} connections. typedredis opens a pool of its own (`typedredis/pools.py`:",
        "lighter than redis-py's) with the client's settings; raw asyncio gets redis-py's blocking",
        "pool with the same settings (redis-py's default `socket_timeout` of 5 s included), keeping",
        "redis-py's default retry policy (typedredis turns retries off; the policy only acts when a",
        "command fails):",
        "",
        *[f"- {side}: `{desc}`" for side, desc in pools.items()],
        "",
        f"With {args['tasks']} tasks every side ends up with {min(args['tasks'], POOL_SIZE)} connections,",
        "opened in an untimed warm-up burst.",
        "",
        "## Method",
        "",
        "- One private `redis-server` (`typedredis.testing.RedisServer`: unix socket, no persistence,",
        "  nice -10 where allowed); the benchmark is one Python process and one event loop",
        f"  (`{data['event_loop']}`); the sync calls run inside that loop too (blocking it, with",
        "  nothing else scheduled).",
        f"- Latency: {args['rounds']} rounds; each round runs, for each operation, a block of",
        f"  {args['calls']:,} calls on each of the six sides, the order of the sides rotating between",
        "  rounds and operations; every side gets the same pks (or `grp` values) in the same order.",
        "  Each call is timed alone with `time.perf_counter`; `gc.collect()` before each block.",
        "- Throughput: the same number of rounds, after the latency loop; the order of the sides",
        "  rotates between rounds.",
        "- The machine is a shared 2-core virtual machine whose speed drifts, minute to minute, by",
        "  tens of percent (other jobs run on it); interleaving makes the drift hit every side alike,",
        "  so ratios are steadier than absolute times; the per-round range of the target ratio",
        "  shows how much noise is left.",
        f"- Sizes: N = {n:,} and {args['rounds']} rounds keep the run to a few minutes on this machine.",
        "  Neither operation depends on N (a hash read by pk; a 100-member set, sorted by pk, of",
        "  which 20 are read), so a larger N changes the server's memory, not these figures.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {mach['cpu']}, {mach['cores']} cores; memory {mach['memory']}; {mach['os']}",
        *[f"- {name}: {value}" for name, value in data["versions"].items()],
        f"- event loop: `{data['event_loop']}`",
        f"- typedredis commit: {commit}",
        "",
        "## Re-running",
        "",
        "```sh",
        ". .venv/bin/activate",
        f"python benchmarks/asyncio_bench.py --n {n} --rounds {args['rounds']}{' --profile' if prof else ''}"
        "   # rewrites this page and benchmarks/asyncio-results.json",
        "python benchmarks/asyncio_bench.py --n 2000 --rounds 1 --calls 50 --ops 5   # a quick look",
        "python benchmarks/asyncio_bench.py --render benchmarks/asyncio-results.json   # the page only",
        "```",
        "",
    ]
    return "\n".join(out)


def print_table(data: dict[str, Any]) -> None:
    print(f"\nN = {data['args']['n']:,}   latency medians (µs), throughput (ops/s)")
    for key in WORKLOADS:
        lat, tp = data["latency"][key], data["throughput"][key]
        print(f"  {key}")
        for side in SIDES:
            print(f"    {side:<26} {lat[side]['median_us']:8.1f} µs", end="")
            print(f"   {tp[side]['ops_s']:9,.0f}/s" if side in tp else "")
        r = data["ratios"][key]
        print(
            f"    asyncio/sync: typedredis {r['async_over_sync']:.3f}{X} (target {TARGET}), "
            f"raw {r['raw_async_over_sync']:.3f}{X}, "
            f"raw connection {r['raw_connection_async_over_sync']:.3f}{X}"
        )
        print(
            f"    typedredis/raw: sync {r['sync_over_raw']:.3f}{X} ({r['raw_sync_baseline']}), asyncio "
            f"{r['async_over_raw']:.3f}{X} ({r['raw_async_baseline']}); throughput "
            f"{r['throughput_over_raw']:.3f} ({r['raw_throughput_baseline']})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=100_000, help="objects (default 100000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument(
        "--calls", type=int, default=1500, help="sequential calls per latency block (default 1500)"
    )
    parser.add_argument(
        "--tasks", type=int, default=100, help="concurrent tasks of the throughput loop (default 100)"
    )
    parser.add_argument(
        "--ops", type=int, default=100, help="calls per task per throughput burst (default 100)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", help="redis-server binary (default: the newest on PATH)")
    parser.add_argument("--profile", action="store_true", help="also cProfile a block of calls on every side")
    parser.add_argument(
        "--profile-calls", type=int, default=2000, help="calls per profiled block (default 2000)"
    )
    parser.add_argument("--json", default=str(RESULTS))
    parser.add_argument("--out", default=str(PAGE))
    parser.add_argument("--no-docs", action="store_true", help="write only the JSON")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the page from a saved results file")
    args = parser.parse_args(argv)

    if args.render:
        data = json.loads(Path(args.render).read_text())
    else:
        if args.n < GROUP_SIZE:
            parser.error(f"--n must be at least {GROUP_SIZE}")
        started = time.monotonic()
        data = run(args)
        data["args"] = {
            k: getattr(args, k) for k in ("n", "rounds", "calls", "tasks", "ops", "seed", "profile_calls")
        }
        data["ratios"] = ratios(data)
        save_results(data, started, args.json)
    if not args.no_docs:
        write(args.out, render(data))
    print_table(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
