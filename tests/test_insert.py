"""`insert`/`insert_all`: store new objects, refuse a stored pk atomically (`AlreadyExists`)."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest
import redis

import typedredis
from typedredis import AlreadyExists, Indexed, Model, Unique, UniqueViolation, operations

from . import support
from .support import check_invariants, key, session_keys


class Note(Model, key=key("note")):
    topic: Indexed[str]
    slug: Unique[str | None] = None
    text: str = ""


def test_insert_assigns_a_pk_or_keeps_a_free_one(client: redis.Redis) -> None:
    a = Note(topic="t").insert()
    b = Note(pk=1000, topic="t").insert()
    assert (a.pk, b.pk) == (1, 1000)
    assert Note(topic="t").insert().pk == 1001  # allocation continues above explicit pks
    check_invariants(client, Note)


def test_insert_refuses_a_stored_pk_and_writes_nothing(client: redis.Redis) -> None:
    stored = Note(topic="mine", text="keep me").save()
    assert stored.pk is not None
    intruder = Note(pk=stored.pk, topic="theirs", text="overwrite")
    with pytest.raises(AlreadyExists) as info:
        intruder.insert()
    assert info.value.pk == stored.pk and info.value.field == "pk"
    assert isinstance(info.value, UniqueViolation)  # one handler (409) covers both
    assert "Note" in str(info.value) and f"pk={stored.pk}" in str(info.value)
    assert Note.get(stored.pk) == stored
    assert Note.query(Note.f.topic == "theirs").count() == 0
    check_invariants(client, Note)
    intruder.save()  # save() stays an upsert
    assert Note.get(stored.pk).text == "overwrite"


def test_insert_all_refuses_the_whole_call(client: redis.Redis) -> None:
    Note(pk=5, topic="old").save()
    batch = [Note(topic="new"), Note(pk=6, topic="new"), Note(pk=5, topic="new")]
    with pytest.raises(AlreadyExists, match="pk=5"):
        Note.insert_all(batch)
    assert all(n.pk in (None, 5, 6) for n in batch) and batch[0].pk is None
    assert Note.query(Note.f.topic == "new").count() == 0
    with pytest.raises(AlreadyExists, match="listed twice"):
        Note.insert_all([Note(pk=7, topic="new"), Note(pk=7, topic="new")])
    assert Note.query(Note.f.topic == "new").count() == 0
    check_invariants(client, Note)


def test_a_long_insert_all_is_checked_before_its_first_write(client: redis.Redis) -> None:
    Note(pk=9999, topic="old").save()
    n = 3 * operations.OBJECTS_PER_CALL
    many = [Note(pk=100 + i, topic="new") for i in range(n)] + [Note(pk=9999, topic="new")]
    with pytest.raises(AlreadyExists, match="pk=9999"):
        Note.insert_all(iter(many))
    assert Note.query(Note.f.topic == "new").count() == 0, "the first calls were not written either"
    repeated = [Note(pk=20_000 + i, topic="new") for i in range(n)] + [Note(pk=20_000, topic="new")]
    with pytest.raises(AlreadyExists, match="listed twice"):
        Note.insert_all(repeated)
    assert Note.query(Note.f.topic == "new").count() == 0
    Note.insert_all(many[:-1])
    assert Note.query(Note.f.topic == "new").count() == n
    check_invariants(client, Note)


def test_insert_checks_unique_fields_too(client: redis.Redis) -> None:
    Note(topic="t", slug="taken").insert()
    with pytest.raises(UniqueViolation) as info:
        Note(topic="t", slug="taken").insert()
    assert not isinstance(info.value, AlreadyExists) and info.value.field == "slug"
    assert Note.objects.count() == 1


def test_nothing_is_sent_for_an_invalid_object(client: redis.Redis) -> None:
    with pytest.raises(typedredis.SchemaError):
        Note.model_construct(topic=object()).insert()  # type: ignore[arg-type]
    assert not session_keys(client)


def _claim(url: str, barrier: Any, results: Any, kind: support.Kind) -> None:
    support.connect(url, kind=kind)
    barrier.wait()
    try:
        Note(pk=42, topic="race").insert()
        results.put("won")
    except AlreadyExists:
        results.put("lost")


def test_racing_inserts_of_one_pk_exactly_one_wins(
    client: redis.Redis, redis_url: str, executor_kind: support.Kind
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(6)
    results: multiprocessing.Queue[str] = context.Queue()
    args = (redis_url, barrier, results, executor_kind)
    workers = [context.Process(target=_claim, args=args) for _ in range(6)]
    for worker in workers:
        worker.start()
    outcomes = sorted(results.get(timeout=30) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["lost"] * 5 + ["won"]
    assert Note.query(Note.f.topic == "race").count() == 1
    check_invariants(client, Note)
