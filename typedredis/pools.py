"""typedredis' own connection pools, sync and asyncio: the least work per round trip.

A transport takes a connection for every round trip and gives it back after. redis-py's
pools do more than typedredis needs on that path (a queue with its locks, observability
hooks, per-call bookkeeping): about 14 µs of a 70 µs round trip on the machine of the
benchmarks (docs/explanation/benchmarks-postgres.md). These pools keep what matters:

- idle connections are reused last-in first-out, and at most ``max_connections`` exist; a
  call that finds none free waits for one to come back (at most ``timeout`` seconds, then
  redis-py's ``ConnectionError("No connection available.")``, as its blocking pool does);
- a connection is checked before it is handed out: connected, and with nothing to read (a
  reply nobody read, or a server that closed it while idle, e.g. its ``timeout`` setting):
  else it is reconnected, so a write is never sent on a connection that is already dead;
- a forked child never touches its parent's sockets: it forgets the connections it
  inherited and opens its own.

Connections are redis-py's own (``connection_class(**connection_kwargs)``), so every setting
of the client (TLS, credentials, timeouts, ``health_check_interval``) applies unchanged.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import deque
from typing import Any

import redis


class _Settings:
    """What both pools are made of: redis-py's connection class and settings, the most
    connections, and how long a call waits for one (None: as long as it takes)."""

    def __init__(
        self, connection_class: type[Any], max_connections: int, timeout: float | None, **kwargs: Any
    ) -> None:
        self.connection_class = connection_class
        self.connection_kwargs = kwargs
        self.max_connections = max_connections
        self.timeout = timeout


class SyncPool(_Settings):
    """Connections to one server for threads; see the module."""

    def __init__(
        self, connection_class: type[Any], max_connections: int, timeout: float | None, **kwargs: Any
    ) -> None:
        super().__init__(connection_class, max_connections, timeout, **kwargs)
        self._cond = threading.Condition(threading.Lock())
        self._waiting = 0
        self._forget()

    def _forget(self) -> None:
        self.pid = os.getpid()
        self._idle: list[Any] = []
        self._all: list[Any] = []

    def get_connection(self) -> Any:
        """A connected connection with nothing to read; give it back with `release`."""
        if self.pid != os.getpid():  # a forked child: the connections are the parent's
            with self._cond:
                if self.pid != os.getpid():
                    self._forget()
        try:
            conn = self._idle.pop()  # (atomic: the common case takes no lock)
        except IndexError:
            conn = self._take()
        try:
            conn.connect()  # (nothing when connected)
            try:
                if conn.can_read():
                    raise redis.ConnectionError("Connection has data")
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                conn.disconnect()
                conn.connect()
                if conn.can_read():
                    raise redis.ConnectionError("Connection not ready") from None
        except BaseException:
            self.release(conn)
            raise
        return conn

    def _take(self) -> Any:
        """An idle connection, a new one while fewer than ``max_connections`` exist, or the
        first one given back (up to ``timeout``)."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._cond:
            self._waiting += 1  # (before looking: a `release` after this looks at it)
            try:
                while True:
                    try:  # (another thread may take the last idle one without the lock)
                        return self._idle.pop()
                    except IndexError:
                        pass
                    if len(self._all) < self.max_connections:
                        conn = self.connection_class(**self.connection_kwargs)
                        self._all.append(conn)
                        return conn
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        raise redis.ConnectionError("No connection available.")
                    self._cond.wait(left)
            finally:
                self._waiting -= 1

    def release(self, conn: Any) -> None:
        """Give ``conn`` back (one of another process, before a fork, is dropped)."""
        if getattr(conn, "pid", self.pid) != self.pid:
            return
        self._idle.append(conn)
        if self._waiting:
            with self._cond:
                self._cond.notify()

    def disconnect(self) -> None:
        """Close every connection, idle or in use (each reconnects when next used)."""
        if self.pid != os.getpid():
            return  # the parent's sockets: never shut down from a child
        for conn in list(self._all):
            conn.disconnect()


def _has_data(conn: Any) -> Any:
    """Whether an asyncio connection has something to read (or its peer closed it): its
    ``can_read`` (redis-py 8), or ``can_read_destructive`` (before; deprecated in 8)."""
    check = getattr(conn, "can_read", None) or conn.can_read_destructive
    return check()


class AsyncPool(_Settings):
    """Connections to one server for the tasks of one event loop; see the module."""

    def __init__(
        self, connection_class: type[Any], max_connections: int, timeout: float | None, **kwargs: Any
    ) -> None:
        super().__init__(connection_class, max_connections, timeout, **kwargs)
        self._idle: list[Any] = []
        self._all: list[Any] = []
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def get_connection(self) -> Any:
        """A connected connection with nothing to read; give it back with `release`."""
        try:
            conn = self._idle.pop()
        except IndexError:
            conn = await self._take()
        try:
            await conn.connect()  # (nothing when connected)
            try:
                if await _has_data(conn):
                    raise redis.ConnectionError("Connection has data")
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                await conn.disconnect()
                await conn.connect()
                if await _has_data(conn):
                    raise redis.ConnectionError("Connection not ready") from None
        except BaseException:
            await self.release(conn)
            raise
        return conn

    async def _take(self) -> Any:
        loop = asyncio.get_running_loop()
        deadline = None if self.timeout is None else loop.time() + self.timeout
        while True:
            if self._idle:
                return self._idle.pop()
            if len(self._all) < self.max_connections:
                conn = self.connection_class(**self.connection_kwargs)
                self._all.append(conn)
                return conn
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise redis.ConnectionError("No connection available.")
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(left):
                    await waiter  # (`_wake` took it off the queue)
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled():
                    self._wake()  # woken, then cancelled or timed out: the next waiter's turn
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                if isinstance(exc, TimeoutError):
                    raise redis.ConnectionError("No connection available.") from None
                raise

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def release(self, conn: Any) -> None:
        """Give ``conn`` back."""
        self._idle.append(conn)
        self._wake()

    async def disconnect(self) -> None:
        """Close every connection, idle or in use (each reconnects when next used)."""
        for conn in list(self._all):
            await conn.disconnect()
