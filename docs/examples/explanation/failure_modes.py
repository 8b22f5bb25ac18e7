"""Failure modes, each on a private server of its own: a crash, a dead server, a full
memory, eviction, a missing permission, corrupt bytes."""

import time
import warnings

import redis

import typedredis
from typedredis import (
    DecodeError,
    Indexed,
    Model,
    ServerError,
    Sorted,
    TypedRedisWarning,
    Unavailable,
)
from typedredis.testing import RedisServer


class Reading(Model, key="docs_failure_reading"):
    sensor: Indexed[str]
    at: Sorted[int]
    value: float = 0.0


def readings(n: int, sensor: str = "s1") -> list[Reading]:
    return [Reading(sensor=sensor, at=i, value=i / 10) for i in range(n)]


# --8<-- [start:crash]
def crash() -> None:
    with RedisServer(appendonly=True) as server:  # AOF, fsynced on every write
        typedredis.connect(server.url)
        Reading.save_all(readings(500))
        server.kill()  # SIGKILL: no chance to save anything more
        server.restart()  # loads the append-only file
        print(Reading.objects.count())  # every acknowledged write is there
        #> 500
# --8<-- [end:crash]


# --8<-- [start:dead]
def dead_server() -> None:
    with RedisServer() as server:
        client = redis.Redis.from_url(server.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        typedredis.connect(client)
        Reading(sensor="s1", at=1).save()
        server.kill()
        started = time.monotonic()
        try:
            Reading.objects.count()
        except Unavailable as exc:  # nothing was written; also a builtin ConnectionError
            print(type(exc).__name__, isinstance(exc, ConnectionError))
            #> Unavailable True
        print(time.monotonic() - started < 0.5)  # no retries, no backoff
        #> True
# --8<-- [end:dead]


# --8<-- [start:memory]
def full_memory() -> None:
    with RedisServer(args=("--maxmemory-policy", "noeviction")) as server:
        typedredis.connect(server.url)
        Reading.save_all(readings(3000, "s1") + readings(1000, "s2"))
        admin = server.client()
        used = int(admin.info("memory")["used_memory"])
        admin.config_set("maxmemory", used - 200_000)  # memory is now full
        try:
            Reading(sensor="s3", at=1).save()
        except ServerError as exc:  # refused before its first write: nothing was written
            print(exc.code)
            #> OOM
        print(Reading.query(Reading.f.sensor == "s1", Reading.f.at >= 2000).count())  # reads work
        #> 1000
        print(Reading.query(Reading.f.sensor == "s2").delete())  # deletes work, and free memory
        #> 1000
# --8<-- [end:memory]


# --8<-- [start:eviction]
def eviction() -> None:
    with RedisServer(args=("--maxmemory", "50mb", "--maxmemory-policy", "allkeys-lru")) as server:
        typedredis.connect(server.url)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            Reading.objects.count()  # the first call reads maxmemory-policy, once
        print(caught[0].category.__name__, caught[0].message)
        #> TypedRedisWarning the Redis server evicts keys without a TTL (maxmemory-policy allkeys-lru): ...
        print(issubclass(TypedRedisWarning, UserWarning))
        #> True
# --8<-- [end:eviction]


# --8<-- [start:acl]
def permissions() -> None:
    with RedisServer() as server:
        server.client().execute_command(  # this user may touch the keys of one other model only
            "ACL", "SETUSER", "app", "on", ">secret", "~{other_model}*", "+@all", "-@dangerous"
        )
        typedredis.connect(redis.Redis.from_url(server.url, username="app", password="secret"))
        try:
            Reading(sensor="s1", at=1).save()
        except ServerError as exc:  # a script's commands are checked against the ACL too
            print(exc.code)
            #> NOPERM
# --8<-- [end:acl]


# --8<-- [start:corrupt]
def corrupt_bytes(url: str) -> None:
    typedredis.connect(url)
    reading = Reading(sensor="s1", at=1, value=0.5).save()
    raw = redis.Redis.from_url(url)
    raw.hset(f"{{docs_failure_reading}}:0:o:{reading.pk}", "value", b"\xc1")  # not msgpack
    try:
        Reading.get(reading.pk)
    except DecodeError as exc:  # names the key and the field; the other fields decoded fine
        print(exc.key, exc.field)
        #> {docs_failure_reading}:0:o:1 value
# --8<-- [end:corrupt]


def main(url: str) -> None:
    crash()
    dead_server()
    full_memory()
    eviction()
    permissions()
    corrupt_bytes(url)


if __name__ == "__main__":
    with RedisServer() as server:  # a private, throwaway redis-server
        main(server.url)
