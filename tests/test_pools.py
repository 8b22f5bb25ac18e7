"""typedredis.pools against a real private Redis: connections are reused, bounded, checked
before use, and never shared with a forked child."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

import typedredis
from typedredis import Indexed, Model
from typedredis.pools import AsyncPool, SyncPool
from typedredis.testing import RedisServer

from .support import key


class Note(Model, key=key("pool_note")):
    tag: Indexed[str]


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer() as private:
        yield private


@pytest.fixture
def admin(server: RedisServer) -> Iterator[redis.Redis]:
    client = redis.Redis(unix_socket_path=str(server.socket))
    client.flushall()
    yield client
    client.close()


def sync_pool(server: RedisServer, size: int = 4, timeout: float | None = None) -> SyncPool:
    return SyncPool(redis.UnixDomainSocketConnection, size, timeout, path=str(server.socket))


def async_pool(server: RedisServer, size: int = 4, timeout: float | None = None) -> AsyncPool:
    return AsyncPool(redis.asyncio.UnixDomainSocketConnection, size, timeout, path=str(server.socket))


def our_clients(admin: redis.Redis) -> int:
    """Clients connected to the server, the admin's own connection left out."""
    return len(admin.client_list()) - 1


def test_a_connection_is_reused_last_in_first_out(server: RedisServer, admin: redis.Redis) -> None:
    pool = sync_pool(server)
    a = pool.get_connection()
    b = pool.get_connection()
    pool.release(a)
    pool.release(b)
    assert pool.get_connection() is b
    assert our_clients(admin) == 2
    pool.disconnect()


def test_a_connection_the_server_closed_while_idle_is_reconnected_before_a_write(
    server: RedisServer, admin: redis.Redis
) -> None:
    client = redis.Redis(unix_socket_path=str(server.socket))
    typedredis.connect(client)
    try:
        Note(tag="a").save()
        admin.client_kill_filter(_type="normal", skipme=True)  # as the server's idle `timeout` does
        time.sleep(0.05)
        Note(tag="b").save()  # never OutcomeUnknown: the dead connection is not written to
        assert Note.query(Note.f.tag == "b").count() == 1
    finally:
        typedredis.disconnect()
        client.close()


def test_at_most_max_connections_and_callers_wait_for_one(server: RedisServer, admin: redis.Redis) -> None:
    pool = sync_pool(server, size=2)
    peak = 0
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        nonlocal peak
        try:
            for _ in range(300):
                conn = pool.get_connection()
                try:
                    conn.send_command("PING")
                    assert conn.read_response() in (b"PONG", "PONG")
                finally:
                    pool.release(conn)
                with lock:
                    peak = max(peak, len(pool._all))
        except BaseException as exc:  # pragma: no cover - what the test is about
            errors.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often: races between taking and giving back show
    try:
        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert peak == 2 and our_clients(admin) == 2
    pool.disconnect()


def test_a_full_pool_raises_after_its_timeout(server: RedisServer) -> None:
    pool = sync_pool(server, size=1, timeout=0.1)
    held = pool.get_connection()
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError, match="No connection available"):
        pool.get_connection()
    assert time.monotonic() - started >= 0.1
    pool.release(held)
    pool.release(pool.get_connection())
    pool.disconnect()


def _child_uses_the_pool(pool: SyncPool, out: Any) -> None:
    conn = pool.get_connection()
    conn.send_command("CLIENT", "ID")
    out.put((os.getpid(), int(conn.read_response())))
    pool.release(conn)
    pool.disconnect()


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents(server: RedisServer) -> None:
    pool = sync_pool(server)
    conn = pool.get_connection()
    conn.send_command("CLIENT", "ID")
    parent_id = int(conn.read_response())
    pool.release(conn)
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    child = context.Process(target=_child_uses_the_pool, args=(pool, out))
    child.start()
    pid, child_id = out.get(timeout=10)
    child.join(10)
    assert pid == child.pid and child_id != parent_id
    conn = pool.get_connection()  # the parent's connection survived the child's disconnect
    conn.send_command("CLIENT", "ID")
    assert int(conn.read_response()) == parent_id
    pool.release(conn)
    pool.disconnect()


def test_asyncio_waiters_are_served_in_turn_and_a_cancelled_one_passes_its_turn_on(
    server: RedisServer, admin: redis.Redis
) -> None:
    async def main() -> None:
        pool = async_pool(server, size=1)
        held = await pool.get_connection()
        first = asyncio.ensure_future(pool.get_connection())
        second = asyncio.ensure_future(pool.get_connection())
        await asyncio.sleep(0.01)
        await pool.release(held)  # wakes `first`...
        first.cancel()  # ...which is cancelled before it runs: `second` gets the connection
        conn = await asyncio.wait_for(second, 2)
        assert conn is held
        assert our_clients(admin) == 1
        await pool.release(conn)
        await pool.disconnect()

    asyncio.run(main())


def test_asyncio_a_full_pool_raises_after_its_timeout(server: RedisServer) -> None:
    async def main() -> None:
        pool = async_pool(server, size=1, timeout=0.1)
        held = await pool.get_connection()
        with pytest.raises(redis.ConnectionError, match="No connection available"):
            await pool.get_connection()
        await pool.release(held)
        await pool.release(await pool.get_connection())
        await pool.disconnect()

    asyncio.run(main())


def test_asyncio_a_connection_closed_while_idle_is_reconnected(
    server: RedisServer, admin: redis.Redis
) -> None:
    async def main() -> None:
        pool = async_pool(server)
        conn = await pool.get_connection()
        await conn.send_command("CLIENT", "ID")
        before = int(await conn.read_response())
        await pool.release(conn)
        admin.client_kill_filter(_id=before)
        await asyncio.sleep(0.05)
        conn = await pool.get_connection()
        await conn.send_command("CLIENT", "ID")
        assert int(await conn.read_response()) != before
        await pool.release(conn)
        await pool.disconnect()

    asyncio.run(main())
