"""The operations of the pure core without a server: transcripts of canned replies.

Each test drives an operation (typedredis.operations, typedredis.querying) with
`typedredis.testing.drive`, answering each script call with a canned reply, and asserts the
batches it yielded and its result, or the error it raised before any call. What the public
classes used to decide (get_by's field check, the delete guard, update's guards) is decided
here, once for every executor.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from typedredis import (
    AlreadyExists,
    DecodeError,
    Indexed,
    IndexNotReady,
    Model,
    NotFound,
    QueryError,
    ReindexReport,
    Sorted,
    Unique,
    UniqueViolation,
    audit,
    operations,
    querying,
    reindex,
    status,
)
from typedredis.codec import encode, packer
from typedredis.compiler import Page, compile_formula
from typedredis.plan import Ahead, Collect, RawCall, ScriptCall
from typedredis.querying import WHOLE
from typedredis.scripts import script
from typedredis.testing import drive
from typedredis.wire import command

from .support import key


class Song(Model, key=key("op_song")):
    title: Indexed[str]
    plays: Sorted[int] = 0
    note: str = ""


class Tag(Model, key=key("op_tag")):
    slug: Unique[str]


def stored(obj: Model) -> list[Any]:
    """The stored bytes of each field of ``obj``, in `ModelSpec.stored` order (what HMGET reads)."""
    spec = obj.spec()
    args = operations.encode_object(spec, obj, packer())
    return args[1 : 1 + len(spec.stored)]


def get_reply(*objects: Model, gen: int = 1) -> list[Any]:
    """get.lua's reply for ``objects`` (each with its pk)."""
    flat: list[Any] = []
    for obj in objects:
        flat += [obj.pk, *stored(obj)]
    return [gen, flat]


def scripts(batches: list[list[ScriptCall]]) -> list[list[str]]:
    return [[call.script for call in batch] for batch in batches]


def never(call: ScriptCall) -> Any:  # pragma: no cover - the operation must not call anything
    raise AssertionError(f"unexpected call of {call.script}")


# -- reads by primary key ------------------------------------------------------------------------


def test_get_many_reads_in_order_with_none_for_the_missing() -> None:
    a, b = Song(pk=3, title="a", plays=1), Song(pk=9, title="b")
    batches, result = drive(querying.get(Song.spec(), [9, 4, 3]), lambda call: get_reply(b, a))
    assert scripts(batches) == [["get"]]
    (call,) = batches[0]
    assert not call.writes
    assert call.args[-3:] == (9, 4, 3)
    assert result == [b, None, a]


def test_get_many_asks_a_thousand_pks_per_call() -> None:
    batches, result = drive(querying.get(Song.spec(), range(1, 2_501)), lambda call: get_reply())
    assert scripts(batches) == [["get"], ["get"], ["get"]]
    assert result == [None] * 2_500


def sent(batches: list[list[Any]]) -> list[list[str]]:
    """The script (or the command) of each call of each batch."""
    return [[call.script if isinstance(call, ScriptCall) else call.command[0] for call in b] for b in batches]


def plain_reply(values: list[Any], gen: bytes | None) -> Any:
    """The replies of a plain get: ``values`` for its HMGET, ``gen`` for its HGET of the generation."""

    def answer(call: Any) -> Any:
        if isinstance(call, ScriptCall):
            return get_reply()
        return values if call.command[0] == "HMGET" else gen

    return answer


def test_a_get_of_a_generation_seen_before_is_one_round_trip_without_a_script() -> None:
    spec, song = Song.spec(), Song(pk=4, title="a", plays=2)
    seen = {spec.keys.meta: 3}
    batches, result = drive(querying.get(spec, [4], seen), plain_reply(stored(song), b"3"))
    assert sent(batches) == [["HMGET", "HGET"]]
    read, check = batches[0]
    assert isinstance(read, RawCall) and isinstance(check, RawCall)
    assert read.command == ("HMGET", spec.keys.object(3, 4), *spec.stored)
    assert check.command == ("HGET", spec.keys.meta, "gen") and check.follows and not check.writes
    assert result == [song]


def test_a_get_whose_generation_moved_on_asks_get_lua_and_learns_the_new_one() -> None:
    spec, old, new = Song.spec(), Song(pk=4, title="old"), Song(pk=4, title="new")
    seen = {spec.keys.meta: 3}

    def answer(call: Any) -> Any:
        return get_reply(new, gen=5) if isinstance(call, ScriptCall) else plain_reply(stored(old), b"5")(call)

    batches, result = drive(querying.get(spec, [4], seen), answer)
    assert sent(batches) == [["HMGET", "HGET"], ["get"]]
    assert result == [new] and seen == {spec.keys.meta: 5}


def test_a_plain_get_that_reads_no_field_asks_get_lua() -> None:
    spec = Song.spec()
    seen = {spec.keys.meta: 0}
    batches, result = drive(querying.get(spec, [4], seen), plain_reply([None] * len(spec.stored), None))
    assert sent(batches) == [["HMGET", "HGET"], ["get"]]  # (an absent gen is generation 0)
    assert result == [None]


def test_a_get_learns_the_generation_from_get_lua_and_many_pks_never_go_plain() -> None:
    spec, song = Song.spec(), Song(pk=4, title="a")
    seen: dict[bytes, int] = {}
    batches, _ = drive(querying.get(spec, [4], seen), lambda call: get_reply(song, gen=7))
    assert sent(batches) == [["get"]] and seen == {spec.keys.meta: 7}
    batches, _ = drive(querying.get(spec, [4, 5], seen), lambda call: get_reply(song, gen=7))
    assert sent(batches) == [["get"]]


def test_get_one_of_a_missing_pk_is_not_found() -> None:
    with pytest.raises(NotFound, match=r"no Song with pk=7"):
        drive(querying.get_one(Song.spec(), 7), lambda call: get_reply())


@pytest.mark.parametrize("pk", [0, -1, 2**53, 1.0, "1", True, None])
def test_a_bad_pk_is_refused_before_any_call(pk: Any) -> None:
    with pytest.raises(QueryError, match=r"Song\.pk: must be an int"):
        drive(querying.get(Song.spec(), [pk]), never)


def test_corrupt_stored_bytes_name_the_key_and_the_field() -> None:
    row = [5, *stored(Song(pk=5, title="x"))]
    row[1 + Song.spec().stored.index("plays")] = b"\xc1"  # never valid msgpack
    with pytest.raises(DecodeError, match=r"o:5: field 'plays'") as info:
        drive(querying.get(Song.spec(), [5]), lambda call: [2, row])
    assert info.value.field == "plays"


def test_rows_decode_plain_scalars_fast_and_ext_types_exactly() -> None:
    """A query's rows decode plain scalar fields without typedredis' ext hook, and datetimes
    with their own shortcut; a value that needs the hook (an int beyond 64 bits) is still read
    exactly, as is every field of a model with a before validator (which could otherwise
    accept what the fast path left undecoded)."""
    from pydantic import field_validator

    from typedredis.codec import decode_datetime, decode_plain, decode_value

    class Count(Model, key=key("op_count")):
        name: Indexed[str]
        n: int
        at: datetime

    class Loose(Model, key=key("op_loose")):
        name: str
        n: int

        @field_validator("n", mode="before")
        @classmethod
        def anything(cls, value: Any) -> Any:
            return value if isinstance(value, int) else 0

    assert Count.spec().row_decoders == (decode_plain, decode_plain, decode_datetime)
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    raw = [encode("a"), encode(7), encode(when)]
    assert Count.spec().row_builder(raw, 9) == {"name": "a", "n": 7, "at": when, "pk": 9}
    assert Loose.spec().row_decoders == (decode_value, decode_value)
    small, big = Count(pk=1, name="a", n=7, at=when), Count(pk=2, name="b", n=-(2**70), at=when)
    _, result = drive(querying.get(Count.spec(), [1, 2]), lambda call: get_reply(small, big))
    assert result == [small, big] and result[1] is not None and result[1].n == -(2**70)
    loose = Loose(pk=3, name="c", n=2**70)
    _, result = drive(querying.get(Loose.spec(), [3]), lambda call: get_reply(loose))
    assert result == [loose]


def test_get_by_a_field_of_another_model_is_refused_before_any_call() -> None:
    with pytest.raises(QueryError, match="a field of Tag cannot look up Song"):
        drive(querying.get_by(Song.spec(), Tag.f.slug, "x"), never)


# -- saves ---------------------------------------------------------------------------------------


def test_save_pipelines_a_hundred_objects_per_call_in_one_round_trip() -> None:
    songs = [Song(title=f"s{i}") for i in range(250)]
    pks, sizes = iter(range(1, 251)), iter([100, 100, 50])
    batches, _ = drive(
        operations.save(Song.spec(), songs), lambda call: [next(pks) for _ in range(next(sizes))]
    )
    assert scripts(batches) == [["save", "save", "save"]], "one round trip of three calls"
    assert all(call.writes for call in batches[0])
    assert [s.pk for s in songs] == list(range(1, 251))


def test_a_big_save_pipelines_four_calls_per_round_trip() -> None:
    # (Redis runs a client's pipelined calls back to back: another client waits for all four)
    songs = [Song(title=f"s{i}") for i in range(1000)]
    pks = iter(range(1, 1001))
    batches, _ = drive(operations.save(Song.spec(), songs), lambda call: [next(pks) for _ in range(100)])
    assert [len(batch) for batch in batches] == [4, 4, 2]
    assert [s.pk for s in songs] == list(range(1, 1001))


def test_a_reset_takes_3200_objects_at_a_time_and_stages_them_four_calls_per_round_trip() -> None:
    songs = [Song(title=f"s{i}") for i in range(3300)]
    pks = iter(range(1, 3301))

    def answer(call: ScriptCall) -> Any:
        if call.script == "save":
            return [next(pks) for _ in range(100)]  # (every call holds 100 of the 3 300)
        return {"reset_begin": 7, "reset_switch": 1, "reset_cleanup": 0}[call.script]

    batches, _ = drive(operations.reset(Song.spec()), answer, songs)
    assert operations.RESET_CHUNK == 3200
    assert scripts(batches) == [
        ["reset_begin"],
        *[["save"] * 4] * 8,  # the first 3 200, in 8 round trips
        ["save"],  # the last 100
        ["reset_switch"],
        ["reset_cleanup"],
    ]
    assert [s.pk for s in songs] == list(range(1, 3301))


def test_a_save_sends_its_objects_and_compiles_the_schema_into_its_script() -> None:
    spec = Song.spec()
    song = Song(pk=7, title="a")
    batches, _ = drive(operations.save(spec, [song]), lambda call: [7])
    (call,) = batches[0]
    assert call.head == spec.save_schema, "the model's schema: constants of its own save script"
    row = operations.encode_object(spec, song, packer())
    assert call.args == (b"", b"", *row), "the generation, the mode, then only the object"
    own = script("save", spec.save_schema).sha
    assert command(call)[:2] == ("EVALSHA", own) and own != script("save", Tag.spec().save_schema).sha


def test_save_assigns_the_pks_the_script_returns() -> None:
    songs = [Song(title="a"), Song(pk=40, title="b"), Song(title="c")]
    _, result = drive(operations.save(Song.spec(), songs), lambda call: [41, 40, 42])
    assert result is None
    assert [s.pk for s in songs] == [41, 40, 42]


def test_insert_of_a_pk_listed_twice_is_refused_before_any_call() -> None:
    twice = [Song(pk=1, title="a"), Song(pk=1, title="b")]
    with pytest.raises(AlreadyExists, match="listed twice"):
        drive(operations.save(Song.spec(), twice, insert=True), never)


def test_an_object_of_another_model_is_refused_before_any_call() -> None:
    with pytest.raises(TypeError, match="expected a Song, got Tag"):
        drive(operations.save(Song.spec(), [Tag(slug="x")]), never)  # type: ignore[list-item]  # on purpose


def test_insert_of_a_stored_pk_is_already_exists() -> None:
    with pytest.raises(AlreadyExists) as info:
        drive(
            operations.save(Song.spec(), [Song(pk=8, title="a")], insert=True),
            lambda call: [b"!exists", b"8"],
        )
    assert info.value.pk == 8


def test_a_multi_call_save_with_unique_fields_checks_them_first_read_only() -> None:
    tags = [Tag(slug=f"t{i}") for i in range(150)]
    pks = iter(range(1, 151))

    sizes = iter([100, 50])

    def answer(call: ScriptCall) -> Any:
        if call.script == "precheck":  # {flags of the n pks, holders of each (field, member) pair}
            n = int(call.args[0])
            return [[0] * n] + [[] for _ in range((len(call.args) - 1 - n) // 2)]
        return [next(pks) for _ in range(next(sizes))]

    batches, _ = drive(operations.save(Tag.spec(), tags), answer)
    assert scripts(batches) == [["precheck"], ["save", "save"]]
    assert not any(call.writes for call in batches[0])
    assert [t.pk for t in tags] == list(range(1, 151))


def test_a_unique_value_taken_is_a_violation_naming_the_field() -> None:
    with pytest.raises(UniqueViolation) as info:
        drive(operations.save(Tag.spec(), [Tag(slug="x")]), lambda call: [b"!unique", b"slug", b"\xa1x"])
    assert info.value.field == "slug"


# -- deletes -------------------------------------------------------------------------------------


def test_deleting_an_unsaved_object_calls_nothing() -> None:
    batches, result = drive(operations.delete_one(Song.spec(), None), never)
    assert (batches, result) == ([], False)


def test_delete_many_sends_three_hundred_per_call_one_call_per_round_trip_and_sums() -> None:
    # (Redis runs a client's pipelined calls back to back: other clients would wait for all)
    batches, result = drive(operations.delete(Song.spec(), range(1, 701)), lambda call: 100)
    assert scripts(batches) == [["delete"], ["delete"], ["delete"]]
    assert [len(batch[0].args) - len(Song.spec().schema) for batch in batches] == [300, 300, 100]
    assert all(batch[0].writes for batch in batches)
    assert result == 300


# -- query guards --------------------------------------------------------------------------------


def test_update_cannot_change_the_pk() -> None:
    with pytest.raises(QueryError, match=r"cannot change pk"):
        drive(querying.update_matching(Song.spec(), None, WHOLE, {"pk": 3}), never)


def test_an_empty_update_calls_nothing() -> None:
    assert drive(querying.update_matching(Song.spec(), None, WHOLE, {}), never) == ([], 0)


def test_update_and_delete_refuse_a_page() -> None:
    page = Song.objects.limit(5).page
    formula = compile_formula(Song.f.title == "a")
    with pytest.raises(QueryError):
        drive(querying.update_matching(Song.spec(), formula, page, {"note": "x"}), never)
    with pytest.raises(QueryError):
        drive(querying.delete_matching(Song.spec(), formula, page), never)


def test_a_query_refused_for_an_index_not_ready_names_the_field_and_the_fix() -> None:
    formula = compile_formula(Song.f.plays >= 3)
    refusal = [1, b"!notready", b"s:plays", b"ready:float"]
    with pytest.raises(IndexNotReady, match=r"Song\.plays: .* holds float sort keys, .* int ones") as info:
        drive(querying.count(Song.spec(), formula, WHOLE), lambda call: refusal)
    assert (info.value.field, info.value.state) == ("plays", "ready")
    assert "Song.reset(Song.objects.iter())" in str(info.value)
    (call,), _ = drive(querying.count(Song.spec(), formula, WHOLE), lambda call: [1, b"exact", b"", 0, 2])
    assert call[0].args[-len(Song.spec().schema) :] == Song.spec().schema, "every query sends the schema"


def test_a_page_and_its_count_come_from_one_dataset() -> None:
    """Read side by side, the page and the count start over together when a reset switched
    datasets between them (their replies name different generations)."""
    formula = compile_formula(Song.f.title == "a")
    gens = iter([b"1", b"2", b"2", b"2"])  # fetch, count; then fetch, count again

    def answer(call: ScriptCall) -> Any:
        gen = next(gens)
        if call.args[0] == "count":
            return [gen, b"exact", b"", 0, 7 if gen == b"1" else 1]
        return [gen, b"exact", b"", 0, [1, *stored(Song(pk=1, title="a"))]]

    batches, (items, total) = drive(querying.page_with_count(Song.spec(), formula, Page(limit=5)), answer)
    assert scripts(batches) == [["query", "query"], ["query", "query"]], "both again, one round trip"
    assert (len(items), total) == (1, 1)


def test_a_page_by_rank_reads_its_count_in_the_same_call() -> None:
    """A page that query.lua answers by rank asks for its count in the same call (action
    ``page``): one call. When the reply carries no count (the call did not answer by rank), a
    count call follows, pinned to the page's generation."""
    formula = compile_formula(Song.f.plays >= 3)
    page = Page(order="plays", descending=True, limit=5)
    row = [1, *stored(Song(pk=1, title="a", plays=4))]

    def ranked(call: ScriptCall) -> Any:
        return [b"1", b"rank", b"", 0, row, 9]

    batches, (items, total) = drive(querying.page_with_count(Song.spec(), formula, page), ranked)
    assert scripts(batches) == [["query"]] and batches[0][0].args[0] == "page"
    assert (len(items), total) == (1, 9)

    def unranked(call: ScriptCall) -> Any:
        if call.args[0] == "count":
            return [b"1", b"exact", b"", 0, 3]
        return [b"1", b"p", b"", 0, row]

    batches, (items, total) = drive(querying.page_with_count(Song.spec(), formula, page), unranked)
    assert scripts(batches) == [["query"], ["query"]] and (len(items), total) == (1, 3)
    assert b"1" in batches[1][0].args, "the count is pinned to the page's generation"
    unordered = Page(limit=5)
    batches, _ = drive(querying.page_with_count(Song.spec(), formula, unordered), unranked)
    assert scripts(batches) == [["query", "query"]], "not by rank: page and count side by side"


def resume_of(call: ScriptCall) -> tuple[Any, Any, Any]:
    """The generation, strategy and cursor a query.lua call resumes with."""
    at = len(call.args) - len(Song.spec().schema) - 6 - 3  # (before the six limits)
    return call.args[at], call.args[at + 1], call.args[at + 2]


def test_the_chunks_of_a_listed_result_carry_its_write_stamp() -> None:
    """A result listed by a first call comes with the write stamp in its cursor
    (``chunk:stamp``): its chunks are sent as strategy ``l`` with the stamp, for query.lua to
    skip the re-check while nothing changed. Candidates (a cursor without a stamp) are chunked
    as first calls, which re-check."""
    formula = compile_formula(Song.f.title == "a")
    for cursor, resume in ((b"2:17", (b"4", b"l", b"17")), (b"2", (b"4", b"", b""))):
        replies = iter([[b"4", b"keys", cursor, 0, [b"3", b"1", b"2"]]])
        listed = [b"4", b"listed", b"", 0, []]
        batches, result = drive(
            querying.query(Song.spec(), formula, "fetch"),
            lambda call, replies=replies, listed=listed: next(replies, listed),
        )
        assert scripts(batches) == [["query"], ["query"], ["query"]], "two chunks of 2, one per round trip"
        assert [resume_of(batch[0]) for batch in batches[1:]] == [resume, resume]
        first, second = (list(batch[0].args) for batch in batches[1:])
        assert first[first.index(b"p") :][:4] == [b"p", 2, 1, 2], "narrowed to its chunk, by pk"
        assert second[second.index(b"p") :][:3] == [b"p", 1, 3]
        assert result == []


def steps(operation: Any, answer: Any) -> tuple[list[str], Any]:
    """What an operation yields, by kind ("round trip", "ahead", "collect"), answered with
    ``answer`` per call; and its result."""
    seen: list[str] = []
    held: list[Any] = []
    try:
        step = next(operation)
        while True:
            if isinstance(step, Ahead):
                seen.append("ahead")
                held = [answer(call) for call in step.batch]
                step = operation.send([])
            elif isinstance(step, Collect):
                seen.append("collect")
                step = operation.send(held)
            else:
                seen.append("round trip")
                step = operation.send([answer(call) for call in step])
    except StopIteration as stop:
        return seen, stop.value


def test_a_read_in_chunks_sends_each_chunk_before_decoding_the_one_before() -> None:
    """The server runs chunk k+1 while the client decodes chunk k: each chunk call is sent
    `Ahead` as soon as the reply before it is collected, and only then is that reply decoded.
    Writes in chunks stay one round trip each: a write's outcome is known before the next."""
    formula = compile_formula(Song.f.title == "a")

    def answer() -> Any:
        replies = iter([[b"4", b"keys", b"2", 0, [b"5", b"1", b"2", b"4", b"3"]]])
        return lambda call: next(replies, [b"4", b"", b"", 0, 2])

    seen, total = steps(querying.count(Song.spec(), formula, WHOLE), answer())
    assert seen == ["round trip", "ahead", "collect", "ahead", "collect", "ahead", "collect"]
    assert total == 6, "three chunks (2, 2, 1 pks) counted 2 each"
    seen, deleted = steps(querying.delete_matching(Song.spec(), formula, WHOLE), answer())
    assert seen == ["round trip"] * 4 and deleted == 6


def test_a_get_of_many_pks_sends_each_call_ahead_and_one_call_as_a_round_trip() -> None:
    many = list(range(1, 2 * querying.GET_PER_CALL + 2))  # three calls of get.lua
    seen, found = steps(querying.get(Song.spec(), many), lambda call: [b"1", []])
    assert seen == ["ahead", "collect", "ahead", "collect", "ahead", "collect"]
    assert found == [None] * len(many)
    seen, found = steps(querying.get(Song.spec(), [1, 2]), lambda call: [b"1", []])
    assert seen == ["round trip"] and found == [None, None], "nothing to overlap"


def test_a_reset_between_two_chunks_drops_the_chunk_ahead_and_starts_over() -> None:
    formula = compile_formula(Song.f.title == "a")
    replies = iter(
        [
            [b"4", b"keys", b"1", 0, [b"1", b"2", b"3"]],
            [b"5", b"!gen"],  # chunk 1: a reset replaced generation 4 (chunk 2 is ahead by now)
            [b"5", b"", b"", 0, 1],  # chunk 2, dropped by the wire, never collected
            [b"5", b"exact", b"", 0, 9],  # the query again, on generation 5
        ]
    )
    seen, total = steps(querying.count(Song.spec(), formula, WHOLE), lambda call: next(replies))
    assert seen == ["round trip", "ahead", "collect", "ahead", "round trip"]
    assert total == 9, "nothing of generation 4 is counted"


def test_the_pieces_of_a_long_in_are_read_from_one_dataset() -> None:
    """An in_() of more values than one call takes is read in pieces; each piece after the
    first is pinned to the first one's generation, and all start over if a reset replaced it."""
    values = [f"t{i}" for i in range(querying.VALUES_PER_CALL + 1)]
    formula = compile_formula(Song.f.title.in_(values))
    replies = iter(
        [
            [b"1", b"exact", b"", 0, 2],  # piece 1, generation 1
            [b"2", b"!gen"],  # piece 2, pinned to generation 1: replaced by a reset
            [b"2", b"exact", b"", 0, 3],  # piece 1 again
            [b"2", b"exact", b"", 0, 4],  # piece 2, pinned to generation 2
        ]
    )
    batches, total = drive(querying.count(Song.spec(), formula, WHOLE), lambda call: next(replies))
    calls = [batch[0].args for batch in batches]
    assert len(calls) == 4
    assert b"1" in calls[1] and b"2" in calls[3], "the later pieces are pinned"
    assert total == 7, "3 + 4 from generation 2, nothing of generation 1"


# -- where decisions live ------------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "typedredis"
CORE = (
    "codec",
    "compiler",
    "errors",
    "expr",
    "fields",
    "keys",
    "operations",
    "plan",
    "querying",
    "rows",
    "wire",
)


@pytest.mark.parametrize("module", CORE)
def test_the_core_never_imports_redis(module: str) -> None:
    source = (PACKAGE / f"{module}.py").read_text()
    assert not re.search(r"^\s*(import redis|from redis)", source, re.MULTILINE), module


def test_the_public_classes_get_typed_results_from_the_core() -> None:
    for face in ("model.py", "query.py"):
        assert "no-any-return" not in (PACKAGE / face).read_text(), face


def test_every_type_ignore_says_why() -> None:
    bare = [
        f"{path.name}:{n}"
        for path in sorted(PACKAGE.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"# type: ignore\[[\w,-]+\]\s*$", line)
    ]
    assert not bare, f"a type: ignore without its reason: {bare}"


# -- reindex ---------------------------------------------------------------------------------------


def test_reindex_with_nothing_to_do_is_one_call() -> None:
    batches, report = drive(reindex.reindex(Song.spec()), lambda call: [b"3", b"", b"done", b"", 0, b""])
    assert scripts(batches) == [["reindex_begin"]]
    assert report == ReindexReport((), (), 0, 0)


def test_reindex_clears_then_fills_reading_the_next_batch_in_the_same_round_trip() -> None:
    song = Song(pk=5, title="a", plays=2)
    rows = [5, *stored(song)]
    replies = {
        "reindex_begin": [[b"3", b"tok", b"clear", b"1:", 1, b"e:title", b""]],
        "reindex_clear": [[b"clear", b"1:x"], [b"fill", b"0"]],
        "reindex_read": [[b"5", rows], [b"", []]],
        "reindex_fill": [[b"ok", 1, 0]],
        "reindex_finish": [[b"ok"]],
    }
    batches, report = drive(reindex.reindex(Song.spec()), lambda call: replies[call.script].pop(0))
    assert scripts(batches) == [
        ["reindex_begin"],
        ["reindex_clear"],
        ["reindex_clear"],
        ["reindex_read"],
        ["reindex_fill", "reindex_read"],
        ["reindex_finish"],
    ]
    fill = batches[4][0]
    assert isinstance(fill, ScriptCall) and fill.writes
    # after the checkpoints and the schema: pk, the stored bytes read, members, sort keys
    spec = song.spec()
    title, plays = (stored(song)[spec.stored.index(name)] for name in ("title", "plays"))
    sort_key = spec.by_name["plays"].sort_key(2)
    assert fill.args[-5:] == (5, title, plays, title, sort_key), "the member of a str is its bytes"
    assert report == ReindexReport(("e:title",), (), 1, 0)


def test_reindex_refuses_a_shared_unique_value_naming_the_objects() -> None:
    tag = Tag(pk=1, slug="x")
    replies = {
        "reindex_begin": [[b"1", b"tok", b"fill", b"0", 2, b"e:slug", b""]],
        "reindex_read": [[b"2", [1, *stored(tag), 2, *stored(tag)]], [b"", []]],
        "reindex_fill": [[b"!unique", b"slug", packer()("x"), b"1", b"2"]],
    }
    with pytest.raises(UniqueViolation, match=r"'x' would be shared by the objects with pks 1, 2; the index"):
        drive(reindex.reindex(Tag.spec()), lambda call: replies[call.script].pop(0))


def test_a_loaded_object_is_saved_in_part_marking_the_fields_it_changed() -> None:
    spec = Song.spec()
    (song,) = drive(querying.get(spec, [7]), lambda call: get_reply(Song(pk=7, title="a", plays=2)))[1]
    song.plays = 3
    batches, _ = drive(operations.save(spec, [song]), lambda call: [7])
    (call,) = batches[0]
    assert isinstance(call, ScriptCall) and call.args[1] == b"p", "mode p: one 'how' per object"
    marks = bytes(49 if name == "plays" else 48 for name in spec.stored)
    assert call.args[-1] == b"c" + marks
    batches, _ = drive(operations.save(spec, [song]), lambda call: [7])
    assert batches[0][0].args[-1] == b"c" + b"0" * len(spec.stored), "saved: nothing changed since"
    batches, _ = drive(operations.save(spec, [Song(pk=7, title="a")]), lambda call: [7])
    assert batches[0][0].args[1] == b"", "built in memory: written whole, in the plain mode"


def test_save_fields_refusals_name_the_model_and_the_fix() -> None:
    spec = Song.spec()
    song = Song(pk=7, title="a")
    with pytest.raises(NotFound, match=r"Song 7 is not stored: save\(fields=...\)"):
        drive(operations.save(spec, [song], fields=["note"]), lambda call: [b"!missing", b"7"])
    with pytest.raises(IndexNotReady, match=r"s:plays is building: run typedredis reindex") as caught:
        drive(
            operations.save(spec, [song], fields=["note"]),
            lambda call: [b"!building", b"s:plays", b"building:int"],
        )
    assert (caught.value.field, caught.value.state) == ("plays", "building")


def hash_of(obj: Model, **extra: bytes) -> list[bytes]:
    """HGETALL's reply for ``obj`` stored as a save stores it, plus ``extra`` fields."""
    spec = obj.spec()
    args = operations.encode_object(spec, obj, packer())
    nf, ni = len(spec.stored), len(spec.indexed)
    flat: list[bytes] = []
    for name, value in zip(spec.stored, args[1 : 1 + nf], strict=True):
        flat += [name.encode(), value]  # (str members equal their bytes: no #field)
    for name, sort_key in zip(spec.sorted_names, args[1 + nf + ni :], strict=True):
        flat += [b"~" + name.encode(), sort_key]
    for name, value in extra.items():
        flat += [name.encode(), value]
    return flat


def test_migrate_saves_only_objects_stored_in_another_form_with_what_it_read() -> None:
    current, old = Song(pk=1, title="a", plays=2), Song(pk=2, title="b", plays=3)
    replies = {
        "reindex_begin": [[b"3", b"", b"done", b"", 0, b""]],
        "migrate_read": [
            [b"3", b"2", 2, [b"1", *hash_of(current)], [b"2", *hash_of(old, gone=b"\xa1x")]],
            [b"3", b"", 2],
        ],
        "save": [[2]],
    }
    batches, report = drive(
        reindex.reindex(Song.spec(), migrate=True), lambda call: replies[call.script].pop(0)
    )
    assert scripts(batches) == [["reindex_begin"], ["migrate_read"], ["save", "migrate_read"]]
    save = batches[2][0]
    assert isinstance(save, ScriptCall) and save.args[1] == b"m", "the compare-and-set mode"
    spec = Song.spec()
    nf = len(spec.stored)
    # the row: pk, the new values, members, sort keys; then the bytes read and the field count
    assert save.args[-(nf + 1) :] == (*stored(old), 5), "the bytes it read, and the hash had 5 fields"
    assert save.args[-(nf + 1) - (1 + nf + len(spec.indexed) + len(spec.sorted))] == 2, "only pk 2"
    assert (report.migrated, report.skipped) == (1, 0)


def test_migrate_counts_objects_a_writer_changed_meanwhile_as_skipped() -> None:
    old = Song(pk=2, title="b", plays=3)
    replies = {
        "reindex_begin": [[b"3", b"", b"done", b"", 0, b""]],
        "migrate_read": [[b"3", b"2", 1, [b"2", *hash_of(old, gone=b"\xa1x")]], [b"3", b"", 1]],
        "save": [[]],  # the save script found other bytes: it wrote nothing
    }
    _, report = drive(reindex.reindex(Song.spec(), migrate=True), lambda call: replies[call.script].pop(0))
    assert (report.migrated, report.skipped) == (0, 1)


def test_status_compares_the_records_with_the_code() -> None:
    spec = Song.spec()
    records = [b":v", b"1", b"e:title", b"building:m1", b"s:plays", b"ready:int", b"e:gone", b"dropped:m1"]
    replies: dict[str, Any] = {"HGET": b"4", "ZCARD": 2, "HGETALL": records, "ZRANGE": [b"1", b"2"]}
    replies["MEMORY"] = 100

    def answer(call: Any) -> Any:
        return replies[call.command[0]]

    batches, found = drive(status.status(spec), answer)
    assert [len(batch) for batch in batches] == [1, 4, 2], "gen; sizes and records; memory of 2 objects"
    assert (found.generation, found.objects, found.bytes_per_object) == (4, 2, 100.0)
    by_name = {index.name: index for index in found.indexes}
    states = [(i.name, i.ok) for i in found.indexes]
    assert states == [("e:title", False), ("s:plays", True), ("e:gone", False)]
    assert by_name["e:gone"].code is None and not found.schema_ok


def test_an_audit_that_a_reset_overtakes_says_so() -> None:
    replies = {
        "check_resets": [[b""]],
        "check_objects": [[b"3", b"", [], b"e:title,s:plays"]],
        "check_keys": [[b"4", b"{x}:4:i:title:a", b""]],  # the next call saw generation 4
    }
    batches, found = drive(audit.audit(Song.spec()), lambda call: replies[call.script].pop(0))
    assert scripts(batches) == [["check_resets"], ["check_objects"], ["check_keys"]]
    assert [p.kind for p in found.problems] == ["moved"] and not found.ok
