"""Fixtures: one private redis-server per test session, emptied before each test."""

from collections.abc import Iterator

import pytest
import redis

import typedredis
from typedredis.testing import RedisServer


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    # A redis-server of our own, on a unix socket in a temporary directory, with
    # persistence off. It is stopped (its directory removed) when the session ends.
    with RedisServer() as server:
        yield server


@pytest.fixture
def db(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client()
    client.flushall()  # safe: nobody else uses this server
    typedredis.connect(client)
    yield client
    client.close()
