"""The asyncio face: every ``a``-twin end to end, bindings, cancellation, concurrency.

The behaviour suite already runs against the asyncio executor (tests/conftest.py drives it
from a background loop behind the sync face); these tests use the ``a``-methods themselves,
in an event loop of the test's own (``asyncio.run``), where an app would.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster

import typedredis
from typedredis import (
    AlreadyExists,
    ConfigurationError,
    Counted,
    Indexed,
    InvalidValue,
    Model,
    NotFound,
    Sorted,
    Unique,
)

from . import support
from .support import check_invariants, key

T = TypeVar("T")


class Member(Model, key=key("member")):
    email: Unique[str]
    team: Indexed[str]
    age: Sorted[int]
    joined: datetime = datetime(2026, 1, 1, tzinfo=UTC)


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main`` in a fresh event loop, as an app's loop would."""

    async def wrapped() -> T:
        return await main()

    return asyncio.run(wrapped())


@pytest.fixture
def aurl(client: redis.Redis, redis_url: str) -> Iterator[str]:
    """The test server's URL, with only an asyncio client bound (the sync one of the ``client``
    fixture is dropped); each test connects inside its own event loop."""
    typedredis.disconnect()
    yield redis_url
    typedredis.disconnect()


def members(n: int, team: str = "red", start: int = 0) -> list[Member]:
    return [Member(email=f"m{i}@x", team=team, age=20 + i % 50) for i in range(start, start + n)]


def test_every_twin_end_to_end(aurl: str, client: redis.Redis) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        ann = await Member(email="ann@x", team="red", age=30).asave()
        assert ann.pk is not None
        with pytest.raises(AlreadyExists):
            await Member(pk=ann.pk, email="other@x", team="blue", age=1).ainsert()
        bob = await Member(email="bob@x", team="blue", age=40).ainsert()
        assert await Member.aget(ann.pk) == ann
        assert await Member.aget_many([ann.pk, 999, bob.pk]) == [ann, None, bob]
        assert await Member.aget_by(Member.f.email, "bob@x") == bob
        with pytest.raises(NotFound):
            await Member.aget(999)
        await Member.asave_all(members(20))
        with pytest.raises(AlreadyExists):
            await Member.ainsert_all([Member(pk=bob.pk, email="b2@x", team="x", age=1)])
        await Member.ainsert_all(members(5, team="green", start=100))

        q = Member.query(Member.f.age >= 30).order_by(Member.f.age)
        everyone = await q.aall()
        assert [m.age for m in everyone] == sorted(m.age for m in everyone)
        assert len(everyone) == await q.acount() > 0
        assert await q.afirst() == everyone[0]
        assert await q.aexists()
        assert await q.apks() == [m.pk for m in everyone]
        assert [m async for m in q.aiter(batch=3)] == everyone
        names = [row async for row in q.only(Member.f.email).aiter(batch=4)]
        assert names == [(m.email,) for m in everyone]
        assert await q.only(Member.f.email, Member.f.age).aall() == [(m.email, m.age) for m in everyone]
        assert await q.only(Member.f.email).afirst() == (everyone[0].email,)
        page = await q.limit(5).offset(2).apage_with_count()
        assert page == Counted(everyone[2:7], len(everyone))
        plan = await Member.query(Member.f.team == "red").aplan()
        assert plan["strategy"]

        assert await Member.query(Member.f.team == "green").aupdate(team="gold") == 5
        assert await Member.objects.filter(team="gold").acount() == 5
        assert await Member.objects.filter(team="gold").adelete() == 5
        assert await bob.adelete()
        assert not await bob.adelete()
        assert await Member.adelete_many([ann.pk, 12345]) == 1
        with pytest.raises(InvalidValue):
            await Member.objects.filter(age="old").acount()

        async def dataset() -> AsyncIterator[Member]:
            for m in members(7_000, team="blue"):  # more than two staging chunks
                yield m
                if m.age == 20:
                    await asyncio.sleep(0)

        await Member.areset(dataset())
        assert await Member.objects.filter(team="blue").acount() == 7_000
        assert await Member.objects.filter(team="red").acount() == 0
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Member)


def test_a_sync_call_with_only_an_asyncio_client_names_its_twin(aurl: str) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        with pytest.raises(ConfigurationError, match=r"Member\.get\(\).*await \.\.\.aget\("):
            Member.get(1)
        with pytest.raises(ConfigurationError, match=r"Member\.all\(\).*aall\("):
            Member.query().all()
        with pytest.raises(ConfigurationError, match=r"Member\.save\(\).*asave\("):
            Member(email="a", team="t", age=1).save()
        await typedredis.adisconnect()

    run(main)


def test_an_async_call_with_only_a_sync_client_names_its_twin(client: redis.Redis) -> None:
    async def main() -> None:
        with pytest.raises(ConfigurationError, match=r"Member\.aget\(\).*call get\(\) without await"):
            await Member.aget(1)
        with pytest.raises(ConfigurationError, match=r"Member\.acount\(\).*call count\(\)"):
            await Member.query().acount()

    run(main)


def test_without_any_client_the_error_names_connect(aurl: str) -> None:
    async def main() -> None:
        with pytest.raises(ConfigurationError, match=r"typedredis\.connect"):
            await Member.aget(1)

    run(main)
    with pytest.raises(ConfigurationError, match=r"typedredis\.connect"):
        Member.get(1)


def test_a_model_can_have_a_sync_and_an_asyncio_client_at_once(aurl: str) -> None:
    sync_client = typedredis.connect(aurl, cluster=support.CLUSTER)

    async def main() -> None:
        async_client = typedredis.connect(support.async_client(aurl))
        assert isinstance(async_client, (redis.asyncio.Redis, redis.asyncio.cluster.RedisCluster))
        saved = await Member(email="a@x", team="t", age=1).asave()
        assert saved.pk is not None
        assert Member.get(saved.pk) == saved  # the sync client, in the same loop
        Member(email="b@x", team="t", age=2).save()
        assert await Member.objects.filter(team="t").acount() == 2
        await typedredis.adisconnect()
        await async_client.aclose()

    run(main)
    sync_client.close()


def test_one_connect_serves_every_event_loop(aurl: str) -> None:
    """Connected once at import time, typedredis serves each loop that comes along (a test's,
    a reloaded server's) with connections of that loop."""
    typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
    emails = (f"loop{i}@x" for i in range(10))

    async def main() -> int:
        saved = await Member(email=next(emails), team="loops", age=1).asave()
        assert saved.pk is not None
        return (await Member.aget(saved.pk)).age

    assert [run(main) for _ in range(3)] == [1, 1, 1]
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(run(main)))  # a loop in another thread
    thread.start()
    thread.join()
    assert done == [1]

    async def count() -> int:
        return await Member.objects.filter(team="loops").acount()

    assert run(count) == 4


def test_an_asyncio_client_is_accepted_and_anything_else_refused() -> None:
    accepted = typedredis.connect(redis.asyncio.Redis.from_url("redis://127.0.0.1:1"), Member)
    assert isinstance(accepted, redis.asyncio.Redis)
    typedredis.disconnect(Member)
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio\.Redis.* client \(or a URL\)"):
        typedredis.connect(object())  # type: ignore[call-overload]  # the wrong kind on purpose


@pytest.mark.skipif(support.CLUSTER, reason="a Redis Cluster has one database")
def test_using_overrides_per_task(aurl: str, client: redis.Redis) -> None:
    """`using` is a contextvar: a task's override never leaks into another task."""

    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        tenant = redis.asyncio.Redis.from_url(aurl, db=1)
        started = asyncio.Event()

        async def in_tenant() -> int:
            with typedredis.using(tenant):
                started.set()
                await Member(email="t@x", team="tenant", age=1).asave()
                await asyncio.sleep(0.05)  # the other task runs meanwhile
                return await Member.query().acount()

        async def in_default() -> int:
            await started.wait()
            await Member(email="d@x", team="default", age=1).asave()
            await Member(email="e@x", team="default", age=1).asave()
            return await Member.query().acount()

        assert await asyncio.gather(in_tenant(), in_default()) == [1, 2]
        await typedredis.adisconnect()
        await tenant.aclose()

    run(main)
    with redis.Redis.from_url(aurl, db=1) as db1:
        assert db1.dbsize() > 0
        db1.flushdb()


def test_adisconnect_closes_typedredis_own_connections(aurl: str, client: redis.Redis) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await asyncio.gather(*(Member.aget_many([1]) for _ in range(5)))
        assert _clients(client) > 1
        await typedredis.adisconnect()
        with pytest.raises(ConfigurationError):
            await Member.aget(1)

    before = _client_ids(client)
    run(main)
    # The server notices a closed socket in its own event loop, possibly after it answers the
    # next CLIENT LIST: wait for it (bounded) rather than race it. Earlier tests' connections may
    # close meanwhile, so the test compares ids: none opened by this one may remain.
    deadline = time.monotonic() + 5
    while (left := _client_ids(client) - before - {client.client_id()}) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not left


def _clients(client: redis.Redis) -> int:
    return len(client.client_list())


def _client_ids(client: redis.Redis) -> set[int]:
    return {int(c["id"]) for c in client.client_list()}


# -- cancellation --------------------------------------------------------------------------------
#
# The rule (docs/explanation/failure-modes.md#cancellation): a cancelled call raises CancelledError
# (an unknown write outcome is chained as its __cause__); no half state is ever visible, because
# each script call is atomic on the server; a cancelled reset retires its staged generation before
# the cancellation goes on, and the connection that was cut is never reused.


def _pause_writes(client: redis.Redis, ms: int, mode: str = "WRITE") -> None:
    for server in support.servers(client):  # every primary of a cluster
        server.execute_command("CLIENT", "PAUSE", ms, mode)


def test_a_reset_cancelled_while_staging_keeps_the_old_dataset(aurl: str, client: redis.Redis) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await Member.asave_all(members(50, team="old"))
        in_flight = asyncio.Event()

        async def dataset() -> AsyncIterator[Member]:
            for i, m in enumerate(members(10_000, team="new")):
                if i == 3_200:  # the first chunk is staged; the second one's write will hang
                    _pause_writes(client, 600)
                    in_flight.set()
                yield m

        task = asyncio.create_task(Member.areset(dataset()))
        await in_flight.wait()
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await Member.objects.filter(team="old").acount() == 50
        assert await Member.objects.filter(team="new").acount() == 0
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Member)  # the staged generation was retired and removed


def test_a_reset_cancelled_while_pulling_from_its_source_keeps_the_old_dataset(
    aurl: str, client: redis.Redis
) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await Member.asave_all(members(10, team="old"))
        never, drained = asyncio.Event(), asyncio.Event()

        async def dataset() -> AsyncIterator[Member]:
            for m in members(5_000, team="new"):
                yield m
            drained.set()
            await never.wait()  # a slow source (an SQL cursor, say)

        task = asyncio.create_task(Member.areset(dataset()))
        # the reset has staged what it pulled and now waits for the source (not a fixed sleep:
        # on a slow machine a save of the first 5 000 could still be in flight)
        await asyncio.wait_for(drained.wait(), 30)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert isinstance(info.value.__cause__, typedredis.Unavailable), "nothing was in flight"
        assert await Member.query().acount() == 10
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Member)


def test_a_timeout_around_a_reset_is_a_timeout_and_keeps_the_old_dataset(
    aurl: str, client: redis.Redis
) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await Member.asave_all(members(10, team="old"))

        async def dataset() -> AsyncIterator[Member]:
            for m in members(5_000, team="new"):
                yield m
            await asyncio.sleep(10)

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await Member.areset(dataset())
        assert await Member.query().acount() == 10
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Member)


class Visit(Model, key=key("visit")):
    page: Indexed[str]
    ms: Sorted[int]


def test_a_cancelled_save_all_leaves_each_object_whole_or_absent(aurl: str, client: redis.Redis) -> None:
    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await Visit(page="warm", ms=1).asave()  # scripts loaded, server checked
        _pause_writes(client, 1000)  # long enough for a loaded machine (CI) to cancel within it
        task = asyncio.create_task(Visit.asave_all([Visit(page="/", ms=i) for i in range(1_000)]))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert isinstance(info.value.__cause__, typedredis.OutcomeUnknown), "sent writes: unknown outcome"
        await asyncio.sleep(1.0)  # the pause ends
        stored = await Visit.objects.filter(page="/").acount()
        assert stored in range(0, 1_001, 100), "whole script calls of 100 objects, or none"
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Visit)


def test_a_save_all_cancelled_in_its_read_only_check_wrote_nothing(aurl: str, client: redis.Redis) -> None:
    """With unique fields, a multi-call save_all checks them first, read-only: cancelled there,
    nothing was written, and the chained cause says so (Unavailable, not OutcomeUnknown)."""

    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        await Member(email="warm@x", team="w", age=1).asave()
        _pause_writes(client, 1000)  # scripts are writes to CLIENT PAUSE WRITE, read-only or not
        task = asyncio.create_task(Member.asave_all(members(1_000)))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        assert isinstance(info.value.__cause__, typedredis.Unavailable)
        await asyncio.sleep(1.0)
        assert await Member.objects.filter(team="red").acount() == 0
        await typedredis.adisconnect()

    run(main)
    typedredis.connect(client)
    check_invariants(client, Member)


def test_a_cancelled_read_never_leaves_its_reply_for_the_next_call(aurl: str, client: redis.Redis) -> None:
    """The reply of a cancelled call must not be read as the answer of a later one (the
    connection it was cut on is dropped, never returned to the pool half read)."""

    async def main() -> None:
        typedredis.connect(aurl, asyncio=True, cluster=support.CLUSTER)
        saved = members(40)
        await Member.asave_all(saved)
        _pause_writes(client, 1000, "ALL")  # long enough for a loaded machine (CI) to cancel within it
        tasks = [asyncio.create_task(Member.aget(m.pk or 0)) for m in saved[:20]]
        await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        await asyncio.sleep(1.0)
        for _ in range(3):
            got = await asyncio.gather(*(Member.aget(m.pk or 0) for m in saved))
            assert got == saved
        await typedredis.adisconnect()

    run(main)


# -- concurrency ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pool",
    [
        pytest.param(lambda url: redis.asyncio.ConnectionPool.from_url(url), id="unbounded"),
        pytest.param(
            lambda url: redis.asyncio.BlockingConnectionPool.from_url(url, max_connections=8, timeout=20),
            id="blocking-8",
        ),
    ],
)
@pytest.mark.skipif(support.CLUSTER, reason="a cluster client takes no connection pool")
def test_a_thousand_concurrent_agets_on_one_client(
    aurl: str, client: redis.Redis, pool: Callable[[str], Any]
) -> None:
    async def main() -> None:
        async_client = redis.asyncio.Redis(connection_pool=pool(aurl))
        typedredis.connect(async_client)
        saved = members(1_000)
        await Member.asave_all(saved)
        got = await asyncio.gather(*(Member.aget(m.pk or 0) for m in saved))
        assert got == saved
        counts = await asyncio.gather(*(Member.objects.filter(age=m.age).acount() for m in saved))
        assert counts == [20] * 1_000
        await typedredis.adisconnect()
        await async_client.aclose()

    run(main)


def test_sync_and_asyncio_writers_at_once_keep_the_indexes_exact(aurl: str, client: redis.Redis) -> None:
    """Two event loops (threads) and a sync writer move the same objects between teams."""
    typedredis.connect(aurl, cluster=support.CLUSTER)
    saved = members(200)
    Member.save_all(saved)
    pks = [m.pk or 0 for m in saved]

    async def mover(team: str) -> None:
        own = support.async_client(aurl)  # each event loop has its own client
        with typedredis.using(own):
            for i in range(300):
                m = await Member.aget(pks[(i * 7) % len(pks)])
                await m.model_copy(update={"team": team}).asave()
                await Member.objects.filter(email=f"m{(i * 11) % len(pks)}@x").aupdate(team=team)
        await own.aclose()

    threads = [threading.Thread(target=asyncio.run, args=(mover(t),)) for t in ("a", "b")]
    for thread in threads:
        thread.start()
    for i in range(300):
        Member.objects.filter(email=f"m{(i * 13) % len(pks)}@x").update(team="sync")
    for thread in threads:
        thread.join()
    check_invariants(client, Member)
    assert sum(Member.objects.filter(team=t).count() for t in ("a", "b", "sync", "red")) == 200
