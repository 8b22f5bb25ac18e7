"""The SQL read-cache how-to's job loop (docs/examples/howto/sql_cache.py) keeps running.

A periodic job that dies on one failed refresh leaves the cache serving stale data forever,
so `run_job` must log any failure of one run and try again at the next tick: through a Redis
crash and restart, and through a SQL row that does not validate. Each test runs the loop in a
thread against a private redis-server (never the suite's, whose keys it must not touch).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pydantic
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import typedredis
from typedredis.testing import RedisServer

from .test_docs import EXAMPLES, load

EVERY = 0.02
"""The job's interval in these tests, in seconds."""
PATIENCE = 5.0
"""How long a test waits for the job to get somewhere before it fails."""


class Failures(logging.Handler):
    """Collects the records the job logs (from its own thread)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)

    def count(self) -> int:
        with self._lock_records:
            return len(self.records)

    def kinds(self) -> set[type[BaseException]]:
        with self._lock_records:
            return {r.exc_info[0] for r in self.records if r.exc_info and r.exc_info[0]}


@dataclass
class Job:
    """The how-to's job, running in a thread against ``server``."""

    example: ModuleType
    server: RedisServer
    db_path: Path
    failures: Failures
    thread: threading.Thread

    def sql(self, statement: str) -> None:
        with sqlite3.connect(self.db_path) as db:
            db.execute(statement)
        db.close()

    def in_stock_teas(self) -> list[str]:
        """What the listing handler serves (read from Redis only)."""
        return [p["name"] for p in self.example.call("category=tea&in_stock=1")["products"]]

    def wait_until(self, condition: Callable[[], bool], what: str) -> None:
        """Wait for ``condition``; fail at once if the job's thread has ended."""
        deadline = time.monotonic() + PATIENCE
        while not condition():
            assert self.thread.is_alive(), f"the job died, waiting for {what}"
            assert time.monotonic() < deadline, f"after {PATIENCE}s: {what}"
            time.sleep(EVERY / 2)


@pytest.fixture
def job(tmp_path: Path) -> Iterator[Job]:
    example = load(EXAMPLES / "howto" / "sql_cache.py")
    db_path = tmp_path / "shop.db"
    with sqlite3.connect(db_path) as db:
        db.executescript(example.SAMPLE)
    db.close()
    failures = Failures()
    logger = logging.getLogger("cache-job")
    logger.addHandler(failures)
    with RedisServer(appendonly=True) as server:
        # No connect retries and short timeouts: a refresh while Redis is down fails at once
        client = server.client(retry=Retry(NoBackoff(), 0), socket_timeout=1, socket_connect_timeout=1)
        typedredis.connect(client)
        stop = threading.Event()
        thread = threading.Thread(
            target=example.run_job, args=(str(db_path), EVERY), kwargs={"stop": stop}, daemon=True
        )
        thread.start()
        try:
            yield Job(example, server, db_path, failures, thread)
        finally:
            stop.set()
            thread.join(PATIENCE)
            logger.removeHandler(failures)
            client.close()
        assert not thread.is_alive(), "run_job did not return after stop was set"


def test_the_job_survives_a_redis_crash_and_refreshes_after_the_restart(job: Job) -> None:
    job.wait_until(lambda: job.in_stock_teas() == ["Darjeeling"], "the first refresh")
    assert job.failures.count() == 0

    job.server.kill()  # SIGKILL, as a crash would
    job.wait_until(lambda: job.failures.count() >= 3, "three refreshes failing while Redis is down")
    assert job.thread.is_alive(), "the job died with Redis"
    # Every failure was typedredis' own: Redis unreachable, or a reply lost mid-reset
    assert job.failures.kinds() <= {typedredis.Unavailable, typedredis.OutcomeUnknown}
    with pytest.raises(typedredis.Unavailable):
        job.in_stock_teas()  # and the readers see an outage, not redis-py's errors

    job.sql("UPDATE product SET stock = 5 WHERE sku = 'T-02'")  # SQL changes during the outage
    job.server.restart()  # same socket; the append-only file brings the old datasets back
    job.wait_until(lambda: job.in_stock_teas() == ["Darjeeling", "Lapsang"], "a refresh after the restart")
    assert job.thread.is_alive()
    # the stats are swapped in right after the cards (the crash may have come before the
    # first run swapped them in at all)
    job.wait_until(lambda: job.example.CategoryStats.objects.count() == 2, "the stats after the restart")


def test_the_job_survives_a_row_that_does_not_validate(job: Job) -> None:
    job.wait_until(lambda: job.in_stock_teas() == ["Darjeeling"], "the first refresh")

    # A product without a name: ProductCard(name=None) raises pydantic's ValidationError,
    # which is neither a typedredis, a SQL nor an OS error
    job.sql("INSERT INTO product VALUES (4, 'T-03', 'tea', NULL, 610, 8)")
    job.wait_until(lambda: job.failures.count() >= 2, "two refreshes failing on the bad row")
    assert job.thread.is_alive(), "one bad row killed the job"
    assert job.failures.kinds() == {pydantic.ValidationError}
    assert job.in_stock_teas() == ["Darjeeling"]  # nothing was swapped in

    job.sql("UPDATE product SET name = 'Sencha' WHERE id = 4")
    job.wait_until(lambda: job.in_stock_teas() == ["Darjeeling", "Sencha"], "a refresh once the row is fixed")


def test_a_refresh_fails_fast_while_redis_is_down(tmp_path: Path) -> None:
    """With the client above, one failed refresh costs milliseconds, not redis-py's retries."""
    example = load(EXAMPLES / "howto" / "sql_cache.py")
    db = sqlite3.connect(tmp_path / "shop.db")
    db.executescript(example.SAMPLE)
    with RedisServer() as server:
        client = server.client(retry=Retry(NoBackoff(), 0), socket_timeout=1, socket_connect_timeout=1)
        typedredis.connect(client)
        example.refresh(db, today="2026-01-01")
        server.kill()
        started = time.monotonic()
        with pytest.raises(typedredis.Unavailable) as info:
            example.refresh(db, today="2026-01-01")
        assert time.monotonic() - started < 0.5
        assert isinstance(info.value, ConnectionError)  # also a builtin network error
        assert isinstance(info.value.__cause__, redis.RedisError)
        client.close()
    db.close()
