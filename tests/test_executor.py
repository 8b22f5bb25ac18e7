"""Both executors: no silent retries of writes, NOSCRIPT recovery, client flavours."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ConstantBackoff
from redis.retry import Retry

import typedredis
from typedredis import Indexed, Model, OutcomeUnknown

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
