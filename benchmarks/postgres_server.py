"""A private PostgreSQL server for benchmarks/postgres.py and its smoke test.

`PostgresServer` runs ``initdb`` into a fresh temporary directory and starts ``postgres`` on a
unix socket in that directory only (``listen_addresses=''``: no TCP at all), with a free port
number (which, without TCP, only names the socket file ``.s.PGSQL.<port>``). It never touches
the system's PostgreSQL service, and `stop` stops exactly the process it started (by its pid)
and removes the directory.

PostgreSQL refuses to run as root. When this process is root (as CI is), the directory is
handed to the ``postgres`` user (or ``nobody``) and the server runs as that user; the client
(root) can still reach the socket.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

USER = "bench"
"""The database superuser that initdb creates (trust authentication, socket only)."""

SETTINGS = {
    # durability off: this is a benchmark of reads and of a reload, not of commit latency
    # (the page says so); Redis runs with persistence off too.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # the whole dataset (~60 MB with indexes) fits in shared buffers, as Redis holds it in memory
    "shared_buffers": "256MB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "max_connections": "60",
    "max_wal_size": "4GB",
    "jit": "off",  # JIT only slows short OLTP queries (its compile time is per query)
    "timezone": "UTC",
}
"""Server settings besides the socket; reported on the benchmark page."""


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` holding ``initdb`` (Debian's layout), else the
    directory of an ``initdb`` on PATH, else None."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as, when we are root; None otherwise."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and there is no postgres or nobody user to run PostgreSQL as")


class PostgresServer:
    """A private PostgreSQL server on a unix socket; a context manager (or start/stop)."""

    def __init__(self, bin_dir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise RuntimeError("no PostgreSQL found (initdb): install the postgresql package")
        self.bin_dir = found
        self.settings = {**SETTINGS, **(settings or {})}
        self.directory = Path()
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def version(self) -> str:
        out = subprocess.run([str(self.bin_dir / "postgres"), "--version"], capture_output=True, text=True)
        return out.stdout.strip()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def conninfo(self, dbname: str = "postgres") -> dict[str, Any]:
        """Keyword arguments of ``psycopg.connect``."""
        return {"host": str(self.directory), "port": self.port, "user": USER, "dbname": dbname}

    def start(self, timeout: float = 60.0) -> PostgresServer:
        self.directory = Path(tempfile.mkdtemp(prefix="typedredis-pg-"))
        user = _run_as()
        kwargs: dict[str, Any] = {}
        if user is not None:
            os.chown(self.directory, user.pw_uid, user.pw_gid)
            kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        os.chmod(self.directory, 0o755)
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        try:
            subprocess.run(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                env=env,
                cwd=self.directory,
                **kwargs,
            )
        except subprocess.CalledProcessError as exc:
            self.stop()
            raise RuntimeError(f"initdb failed: {exc.stderr.decode(errors='replace')[-2000:]}") from None
        self.port = free_port()
        command = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data),
            "-k",
            str(self.directory),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=",
        ]
        for name, value in self.settings.items():
            command += ["-c", f"{name}={value}"]
        log = open(self.directory / "postgres.log", "wb")  # noqa: SIM115 - the server keeps it open
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=self.directory,
                **kwargs,
            )
        finally:
            log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            assert self._process is not None
            code = self._process.poll()
            if code is not None:
                text = self.log_tail()
                self.stop()
                raise RuntimeError(f"postgres exited with {code}:\n{text}")
            try:
                with psycopg.connect(**self.conninfo(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    text = self.log_tail()
                    self.stop()
                    raise RuntimeError(f"postgres did not start within {timeout}s:\n{text}") from None
                time.sleep(0.05)

    def log_tail(self) -> str:
        try:
            return (self.directory / "postgres.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server we started (SIGINT: PostgreSQL's fast shutdown, by its pid), then remove
        the directory."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.directory != Path() and self.directory.exists():
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
