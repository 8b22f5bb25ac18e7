"""Both executors: no silent retries of writes, NOSCRIPT recovery, client flavours."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ConstantBackoff
from redis.retry import Retry

import typedredis
from typedredis import DecodeError, Indexed, Model, OutcomeUnknown, querying
from typedredis.codec import encode

from . import support
from .support import SHARED, check_invariants, key


class Job(Model, key=key("job")):
    state: Indexed[str]


def test_lost_reply_of_a_write_is_reported_and_never_resent(
    client: redis.Redis, redis_url: str, executor_kind: support.Kind
) -> None:
    # A client that retries 5 times (redis-py's default behaviour, made quick): typedredis must
    # not use that retry for writes, or a save whose reply was lost would be applied twice.
    retry = (Retry if executor_kind == "sync" else AsyncRetry)(ConstantBackoff(0.01), 5)
    support.connect(redis_url, socket_timeout=0.2, retry=retry)
    Job(state="warm-up").save()  # loads the script
    server = support.owner(client, Job)
    _require_debug(server)
    stall = threading.Thread(target=lambda: server.execute_command("DEBUG", "SLEEP", "0.6"))
    stall.start()
    time.sleep(0.05)
    with pytest.raises(OutcomeUnknown, match="save") as info:
        Job(state="new").save()  # sent, then the reply times out; the server runs it after the stall
    assert isinstance(info.value.__cause__, redis.TimeoutError)
    stall.join()
    support.connect(redis_url)
    assert Job.query(Job.f.state == "new").count() == 1, "sent once, applied once"
    check_invariants(client, Job)


@pytest.mark.skipif(
    support.CLUSTER, reason="on a cluster a read that timed out is sent again (tests/test_cluster_routing.py)"
)
def test_reads_are_not_reported_as_unknown_writes(client: redis.Redis, redis_url: str) -> None:
    support.connect(redis_url, socket_timeout=0.2)
    _require_debug(client)
    Job.objects.count()  # connected (a stalled handshake would fail before sending anything)
    blocker = threading.Thread(target=lambda: client.execute_command("DEBUG", "SLEEP", "0.5"))
    blocker.start()
    time.sleep(0.05)
    with pytest.raises(typedredis.Unavailable) as info:
        Job.objects.count()
    assert isinstance(info.value.__cause__, redis.TimeoutError)
    blocker.join()


def _require_debug(client: redis.Redis) -> None:
    try:
        client.execute_command("DEBUG", "SLEEP", "0")
    except redis.ResponseError:
        # only possible with TYPEDREDIS_TEST_URL: the private test server always allows DEBUG
        pytest.skip("the shared test server has DEBUG disabled")


@pytest.mark.skipif(SHARED, reason="SCRIPT FLUSH would drop other clients' scripts on a shared server")
def test_scripts_are_reloaded_after_script_flush(client: redis.Redis) -> None:
    Job(state="a").save()
    client.script_flush()
    Job.save_all([Job(state="b"), Job(state="c")])  # NOSCRIPT -> EVAL, once
    client.script_flush()
    assert Job.objects.count() == 3
    check_invariants(client, Job)


def test_resp3_client_works(client: redis.Redis, redis_url: str) -> None:
    support.connect(redis_url, protocol=3)
    job = Job(state="x").save()
    assert Job.get(job.pk) == job  # type: ignore[arg-type]
    assert Job.query(Job.f.state == "x").all() == [job]
    assert Job.objects.count() == 1


def test_script_errors_surface_as_server_errors(client: redis.Redis) -> None:
    client.set(Job.spec().keys.all(0), "not a set")  # sabotage: wrong type under our key
    with pytest.raises(typedredis.ServerError, match="save") as info:
        Job(state="x").save()
    assert info.value.code == "WRONGTYPE" and info.value.reply.startswith("WRONGTYPE ")


# -- a read's chunks: each sent ahead of decoding the one before (typedredis.wire) ---------------


class Interrupted(BaseException):
    """Stands for a KeyboardInterrupt (which asyncio would re-raise out of its event loop)."""


def chunked(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> list[Job]:
    """Ten jobs, read four per call, by typedredis on one connection: a reply left on it
    would be read as the answer to the next call."""
    monkeypatch.setattr(querying, "LIMITS", querying.Limits(rows=4))
    support.connect(redis_url, max_connections=1)
    jobs = [Job(state="x") for _ in range(10)]
    Job.save_all(jobs)
    return jobs


def connections(client: redis.Redis) -> int:
    return int(support.owner(client, Job).info("stats")["total_connections_received"])


def test_a_decode_error_under_a_chunk_ahead_reads_its_reply_and_keeps_the_connection(
    client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = chunked(monkeypatch, redis_url)
    assert [job.pk for job in Job.query(Job.f.state == "x").all()] == [job.pk for job in jobs]
    # two documents in one field: the first chunk's first row does not decode, chunk 2 is ahead
    client.hset(Job.spec().keys.object(0, jobs[0].pk or 0), "state", encode("x") + encode("y"))
    opened = connections(client)
    with pytest.raises(DecodeError):
        Job.query(Job.f.state == "x").all()
    assert within(10, Job.objects.count) == 10, "the next call reads its own reply"
    assert Job.get(jobs[5].pk or 0) == jobs[5]
    assert connections(client) == opened, "the reply ahead was read off the connection, not closed"


def test_an_interruption_under_a_chunk_ahead_closes_the_connection(
    client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = chunked(monkeypatch, redis_url)
    decode = querying.decode_objects

    def interrupted(*args: Any) -> Any:
        monkeypatch.setattr(querying, "decode_objects", decode)
        raise Interrupted  # while decoding chunk 1: chunk 2 is ahead, its reply unread

    monkeypatch.setattr(querying, "decode_objects", interrupted)
    opened = connections(client)
    with pytest.raises(Interrupted):
        Job.query(Job.f.state == "x").all()
    assert within(10, Job.objects.count) == 10, "the next call reads its own reply"
    assert [job.pk for job in Job.query(Job.f.state == "x").all()] == [job.pk for job in jobs]
    assert connections(client) == opened + 1, "the connection with a reply in flight was closed"


def within(seconds: float, call: Any) -> Any:
    """``call()``, failing instead of waiting for ever for the one connection of the pool."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(_outcome(call)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, "no free connection: the one with a reply in flight was never given back"
    if isinstance(done[0], BaseException):
        raise done[0]
    return done[0]


def _outcome(call: Any) -> Any:
    try:
        return call()
    except BaseException as exc:  # handed to the test's thread
        return exc
