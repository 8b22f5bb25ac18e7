"""`reset` streams any iterable, and is all-or-nothing around its switch: a failure before it
leaves the old dataset served and nothing staged behind; once it happened, reset succeeds."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from typedredis import Indexed, Model, OutcomeUnknown, SchemaError, Unique, UniqueViolation, operations
from typedredis.plan import ScriptCall
from typedredis.testing import drive, run_batch

from .support import check_invariants, key, model_keys


class Row(Model, key=key("row")):
    group: Indexed[int]
    code: Unique[str]
    payload: str = ""


def rows(n: int, start: int = 0, group: int = 0) -> Iterator[Row]:
    for i in range(start, start + n):
        yield Row(group=group, code=f"c{i}")


def test_reset_takes_a_generator(client: redis.Redis) -> None:
    Row.reset(rows(10, group=1))
    n = 2 * operations.RESET_CHUNK + 7  # several chunks, the last one partial
    Row.reset(rows(n, group=2))
    assert Row.objects.count() == n
    assert Row.query(Row.f.group == 1).count() == 0
    check_invariants(client, Row)  # nothing of the old generation is left


def test_save_all_takes_any_iterable(client: redis.Redis) -> None:
    Row.save_all(rows(150))
    Row.save_all(Row(group=3, code=f"set{i}") for i in range(3))
    assert Row.objects.count() == 153
    check_invariants(client, Row)


def test_streamed_objects_get_their_pks(client: redis.Redis) -> None:
    kept: list[Row] = []

    def keep() -> Iterator[Row]:
        for row in rows(operations.RESET_CHUNK + 5):
            kept.append(row)
            yield row

    Row.reset(keep())
    assert sorted(r.pk or 0 for r in kept) == Row.objects.pks()


def _old_dataset_is_served(client: redis.Redis) -> None:
    assert Row.objects.count() == 3
    assert Row.query(Row.f.group == 9).count() == 3
    check_invariants(client, Row)  # no staged or retired generation is left behind


@pytest.mark.parametrize("at", [0, 5, operations.RESET_CHUNK + 5])
def test_an_error_raised_by_the_iterable_keeps_the_old_dataset(client: redis.Redis, at: int) -> None:
    Row.reset(rows(3, group=9))

    def failing() -> Iterator[Row]:
        yield from rows(at, start=100)
        raise RuntimeError("the SQL cursor died")

    with pytest.raises(RuntimeError, match="cursor died"):
        Row.reset(failing())
    _old_dataset_is_served(client)


def test_a_bad_object_in_a_later_chunk_keeps_the_old_dataset(client: redis.Redis) -> None:
    Row.reset(rows(3, group=9))
    bad = Row.model_construct(group=object(), code="bad")  # skips validation: unstorable

    def stream() -> Iterator[Row]:
        yield from rows(operations.RESET_CHUNK + 1, start=100)
        yield bad

    with pytest.raises(SchemaError, match=r"Row\.group"):
        Row.reset(stream())
    _old_dataset_is_served(client)


def test_duplicates_across_chunks_keep_the_old_dataset(client: redis.Redis) -> None:
    Row.reset(rows(3, group=9))
    chunk = operations.RESET_CHUNK
    twice = [*rows(chunk, start=100), Row(group=0, code="c100")]  # the value is in the first chunk
    with pytest.raises(UniqueViolation, match="'c100'"):
        Row.reset(iter(twice))
    _old_dataset_is_served(client)
    same_pk = [Row(pk=7, group=0, code="x"), *rows(chunk, start=200), Row(pk=7, group=0, code="y")]
    with pytest.raises(UniqueViolation, match="pk=7") as info:
        Row.reset(iter(same_pk))
    assert info.value.field == "pk"
    _old_dataset_is_served(client)
    with pytest.raises(UniqueViolation, match="pk=8"):
        Row.reset([Row(pk=8, group=0, code="a"), Row(pk=8, group=0, code="b")])  # within one call
    _old_dataset_is_served(client)


def test_a_streamed_reset_holds_a_bounded_number_of_objects(client: redis.Redis) -> None:
    def peak(n: int) -> int:
        tracemalloc.start()
        try:
            Row.reset(Row(group=i % 10, code=f"c{i}", payload="x" * 200) for i in range(n))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(operations.RESET_CHUNK), peak(8 * operations.RESET_CHUNK)
    # eight times the objects, not eight times the memory: only one chunk is held at a time
    assert large < 2 * small, (small, large)
    assert Row.objects.count() == 8 * operations.RESET_CHUNK


# -- the switch, driven with canned replies (no server) --------------------------------------


def _drive(operation: Any, answer: Any, source: Any = ()) -> tuple[list[str], Any]:
    """Run an operation with canned replies; the scripts it called, in order, and its result."""
    batches, result = drive(operation, answer, source)
    return [call.script for batch in batches for call in batch], result


def _server(lost: str | None = None, abort_reply: int = 1) -> Any:
    cleanups = iter([1, 0])

    def answer(call: ScriptCall) -> Any:
        if call.script == lost:
            raise OutcomeUnknown("the reply was lost")
        if call.script == "reset_begin":
            return 5
        if call.script == "save":  # one pk per object of the call (see operations._save_call)
            spec = Row.spec()
            per_object = 1 + len(spec.stored) + len(spec.indexed) + len(spec.sorted)
            return list(range(1, 1 + (len(call.args) - 2) // per_object))  # (after gen, mode)
        if call.script == "reset_switch":
            return 4
        if call.script == "reset_abort":
            return abort_reply
        if call.script == "reset_cleanup":
            return next(cleanups, 0)
        raise AssertionError(call.script)

    return answer


def test_a_failing_cleanup_after_the_switch_is_not_a_failed_reset() -> None:
    objects = [Row(group=1, code="a")]
    seen, result = _drive(operations.reset(Row.spec()), _server(lost="reset_cleanup"), objects)
    assert seen == ["reset_begin", "save", "reset_switch", "reset_cleanup"]  # not retried
    assert result is None and objects[0].pk == 1  # success: the new dataset is in place


def test_a_lost_switch_reply_is_resolved_by_the_abort_script() -> None:
    switched = operations.reset(Row.spec())
    seen, result = _drive(switched, _server(lost="reset_switch", abort_reply=2), [Row(group=1, code="a")])
    assert seen[2:] == ["reset_switch", "reset_abort", "reset_cleanup", "reset_cleanup"]
    assert result is None  # it had switched: success
    aborted = operations.reset(Row.spec())
    with pytest.raises(OutcomeUnknown):  # it had not: the caller knows
        _drive(aborted, _server(lost="reset_switch", abort_reply=1), [Row(group=1, code="a")])


def test_a_lost_connection_during_staging_leaves_the_old_dataset(client: redis.Redis) -> None:
    Row.reset(rows(3, group=9))
    spec = Row.spec()
    before = model_keys(client, Row)

    def answer_until_save(call: ScriptCall) -> Any:
        if call.script == "save":
            raise OutcomeUnknown("connection lost")
        return run_batch(client, [call])[0]

    with pytest.raises(OutcomeUnknown):
        _drive(operations.reset(spec), answer_until_save, rows(5, start=50))
    _old_dataset_is_served(client)
    assert model_keys(client, Row) == before
