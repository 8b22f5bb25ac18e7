"""The edges of the input space: the largest pks, huge operand lists, hostile strings, bad
arguments, and what a failed call leaves behind (nothing a later call can trip over)."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from pydantic import ValidationError

from typedredis import (
    Indexed,
    InvalidValue,
    Model,
    QueryError,
    SchemaError,
    ServerError,
    Sorted,
    Unique,
    UniqueViolation,
    querying,
)

from .support import check_invariants, key, model_keys

TOP = 2**53 - 1


class Big(Model, key=key("big")):
    tag: Indexed[str]
    rank: Sorted[int] = 0


@pytest.mark.parametrize("start", [10**14 - 2, 2**53 - 4])
def test_server_assigned_pks_stay_exact_across_every_edge(client: redis.Redis, start: int) -> None:
    explicit = Big(pk=start, tag="explicit").save()
    fresh = [Big(tag="fresh", rank=i) for i in range(3)]
    Big.save_all(fresh)
    assert [b.pk for b in fresh] == [start + 1, start + 2, start + 3]  # crossing 10**14 or up to 2**53 - 1
    assert len({b.pk for b in [explicit, *fresh]}) == 4
    for obj in [explicit, *fresh]:
        assert obj.pk is not None and Big.get(obj.pk) == obj
    assert Big.objects.pks() == [start, start + 1, start + 2, start + 3]
    assert [b.pk for b in Big.objects.all()] == Big.objects.pks()
    newest = Big.query(Big.f.tag == "fresh").order_by(Big.f.rank.desc())
    assert newest.pks() == [start + 3, start + 2, start + 1]
    assert Big.query(Big.f.tag == "fresh").update(tag="moved") == 3
    check_invariants(client, Big)
    assert Big.query(Big.f.tag == "moved").delete() == 3
    assert Big.delete_many([start]) == 1
    check_invariants(client, Big)


def test_the_pk_counter_stops_at_the_top(client: redis.Redis) -> None:
    Big(pk=TOP, tag="last").save()
    with pytest.raises(SchemaError, match="2\\*\\*53"):
        Big(tag="one too many").save()
    assert Big.objects.count() == 1
    check_invariants(client, Big)


@pytest.mark.parametrize("pk", [1.9, 1.0, True, "1", 0, -1, 2**53, None])
def test_get_refuses_what_is_not_a_pk(client: redis.Redis, pk: Any) -> None:
    Big(tag="x").save()
    with pytest.raises(InvalidValue, match=r"Big\.pk: must be an int") as info:  # a QueryError too
        Big.get(pk)
    assert info.value.field == "pk"
    with pytest.raises(QueryError):
        Big.get_many([1, pk])
    with pytest.raises(QueryError):
        Big.delete_many([pk])
    assert Big.objects.count() == 1


def test_key_names_and_reserved_fields_are_checked() -> None:
    with pytest.raises(SchemaError, match="non-empty"):

        class Empty(Model, key=""):
            x: int

    for name in ("f", "objects", "save", "query"):
        with pytest.raises(SchemaError, match=f"\\['{name}'\\] are reserved"), pytest.warns(UserWarning):
            type("Reserved", (Model,), {"__annotations__": {name: int}, "__module__": __name__})


def test_a_lone_surrogate_is_a_validation_error_not_a_crash(client: redis.Redis) -> None:
    bad = Big(tag="\ud800")  # pydantic's str accepts it (JSON can carry "\\ud800")
    with pytest.raises(ValidationError) as info:
        bad.save()
    assert info.value.errors()[0]["loc"] == ("tag",) and info.value.title == "Big"
    with pytest.raises(ValidationError):
        Big.save_all([Big(tag="ok"), bad])
    with pytest.raises(InvalidValue, match=r"^Big\.tag: "):
        Big.f.tag == "a\udfffb"  # noqa: B015
    with pytest.raises(InvalidValue):
        Big.query(Big.f.tag.in_(["ok", "\ud800"]))
    assert not model_keys(client, Big), "nothing was written"


def test_errors_quote_a_short_prefix_of_a_huge_value(client: redis.Redis) -> None:
    class Slug(Model, key=key("slug")):
        slug: Unique[str]

    huge = "x" * 1_000_000
    Slug(slug=huge).save()
    with pytest.raises(UniqueViolation) as violation:
        Slug(slug=huge).save()
    with pytest.raises(Exception) as missing:
        Slug.get_by(Slug.f.slug, huge + "y")
    with pytest.raises(QueryError) as page:
        Slug.objects.limit(huge)  # type: ignore[arg-type]
    for error in (violation.value, missing.value, page.value):
        assert len(str(error)) < 400, type(error)


@pytest.mark.parametrize("bad", [-1, 2**53, 1.5, True, "3"])
def test_limit_and_offset_take_counts_redis_and_lua_hold_exactly(bad: Any) -> None:
    with pytest.raises(QueryError, match="from 0 to 2\\*\\*53 - 1"):
        Big.objects.limit(bad)
    with pytest.raises(QueryError, match="from 0 to 2\\*\\*53 - 1"):
        Big.objects.offset(bad)


def test_the_largest_offsets_and_limits_work(client: redis.Redis) -> None:
    Big.save_all([Big(tag="a", rank=i) for i in range(5)])
    assert Big.objects.offset(TOP).limit(TOP).pks() == []
    assert Big.objects.order_by(Big.f.rank.desc()).offset(10**15).limit(3).pks() == []
    assert Big.objects.order_by(Big.f.rank).limit(TOP).pks() == [1, 2, 3, 4, 5]
    assert Big.query(Big.f.tag == "a").offset(2).limit(TOP).pks() == [3, 4, 5]
    assert Big.query(Big.f.tag == "a").offset(10**15).count() == 0


def test_huge_in_lists_and_or_chains_run(client: redis.Redis) -> None:
    Big.save_all([Big(tag=str(i), rank=i) for i in range(300)])
    values = [str(i) for i in range(100_000)]
    assert Big.query(Big.f.tag.in_(values), Big.f.rank >= 100).count() == 200
    assert len(Big.query(Big.f.tag.in_(values)).pks()) == 300
    ranks = Big.query(Big.f.rank.in_(range(0, 100_000, 3))).pks()  # a Sorted-only in_()
    assert ranks == [i + 1 for i in range(0, 300, 3)]
    chain = Big.f.tag == "0"
    for i in range(1, 10_000):
        chain = chain | (Big.f.tag == str(i))
    assert Big.query(chain).count() == 300
    assert Big.query(chain, Big.f.rank < 10).delete() == 10
    check_invariants(client, Big)


# -- nothing left behind ----------------------------------------------------------------------


def test_a_stale_scratch_key_is_never_read(client: redis.Redis) -> None:
    Big.save_all([Big(tag="a" if i % 50 == 0 else "b", rank=i) for i in range(500)])
    base = Big.spec().keys.base
    for name in ("1", "2", "3"):  # what a crashed older version could leave
        client.sadd(base + b"tmp:" + name.encode(), *range(1, 501))
    for name in ("probe", "order"):
        client.zadd(base + b"tmp:" + name.encode(), {b"stale" + bytes(8): 0})
    ten = Big.query(Big.f.tag == "a", Big.f.rank >= 100)
    assert ten.count() == 8 and len(ten.pks()) == 8
    assert ten.order_by(Big.f.rank).pks() == [101, 151, 201, 251, 301, 351, 401, 451]
    assert Big.query((Big.f.tag == "a") | (Big.f.rank < 3)).count() == 12
    assert Big.query(Big.f.tag == "a", Big.f.rank >= 100).delete() == 8
    assert Big.objects.count() == 492
    left = {k for k in model_keys(client, Big) if b":tmp:" in k}
    assert left < {base + b"tmp:" + name.encode() for name in ("1", "2", "3", "probe", "order")}
    assert base + b"tmp:order" not in left, "a scratch key a query used is gone"


def test_a_query_that_fails_midway_leaves_no_scratch_key(client: redis.Redis) -> None:
    Big.save_all([Big(tag="a", rank=i) for i in range(50)] + [Big(tag="b", rank=i) for i in range(50)])
    spec = Big.spec()
    client.set(spec.keys.index(0, "tag", spec.by_name["tag"].member("zzz")), "not a set")  # sabotage
    query = Big.query((Big.f.tag == "a") | (Big.f.tag == "zzz"), Big.f.rank >= 10)
    with pytest.raises(ServerError, match="query"):
        query.pks()
    with pytest.raises(ServerError):
        query.delete()
    assert not [k for k in model_keys(client, Big) if b":tmp:" in k]
    client.delete(spec.keys.index(0, "tag", spec.by_name["tag"].member("zzz")))
    assert Big.query(Big.f.tag == "b").count() == 50, "a later query is not disturbed"
    assert Big.query(Big.f.tag == "a").delete() == 50
    check_invariants(client, Big)


@pytest.fixture
def tiny_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = querying.Limits(budget=0, walk=7, rows=3, writes=2, sort=4, keys=0)
    monkeypatch.setattr(querying, "LIMITS", tiny)


def test_every_query_kind_answers_alike_in_many_small_calls(client: redis.Redis, tiny_limits: None) -> None:
    Big.save_all([Big(tag="a" if i % 3 else "b", rank=i % 17) for i in range(100)])
    q = Big.query(Big.f.tag == "a", Big.f.rank >= 5)
    expected = [i + 1 for i in range(100) if i % 3 and i % 17 >= 5]
    assert q.pks() == expected and [b.pk for b in q.all()] == expected
    assert q.count() == len(expected) and q.exists()
    assert q.plan()["strategy"] == "p"  # walks the model in pk order
    ordered = q.order_by(Big.f.rank.desc()).offset(3).limit(5).pks()
    by_rank = sorted(expected, key=lambda pk: ((pk - 1) % 17, pk), reverse=True)
    assert ordered == by_rank[3:8]
    assert q.update(tag="c") == len(expected)
    assert Big.query(Big.f.tag == "c").delete() == len(expected)
    check_invariants(client, Big)


def test_a_long_in_list_is_split_over_queries_with_the_same_answers(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    Big.save_all([Big(tag=str(i % 40), rank=i) for i in range(400)])
    tags, ranks = [str(i) for i in range(0, 40, 3)], list(range(0, 400, 7))
    queries = [
        Big.query(Big.f.tag.in_(tags)),
        Big.query(Big.f.tag.in_(tags), Big.f.rank >= 100),
        Big.query(Big.f.tag.in_(tags), Big.f.rank != 150),
        Big.query(Big.f.rank.in_(ranks), Big.f.tag != "0"),
    ]
    whole = [(q.count(), q.exists(), q.pks(), q.all()) for q in queries]
    monkeypatch.setattr(querying, "VALUES_PER_CALL", 3)
    monkeypatch.setattr(querying, "SORTED_VALUES_PER_CALL", 2)
    assert [(q.count(), q.exists(), q.pks(), q.all()) for q in queries] == whole
    assert queries[1].delete() == whole[1][0]
    assert queries[0].update(rank=-1) == whole[0][0] - whole[1][0]
    check_invariants(client, Big)


def test_corrupt_bytes_raise_a_decode_error_naming_key_and_field(client: redis.Redis) -> None:
    from typedredis import DecodeError
    from typedredis.codec import encode

    class Pair(Model, key=key("pair")):
        first: Indexed[str]
        second: str
        third: str

    obj = Pair(first="a", second="b", third="c").save()
    okey = Pair.spec().keys.object(0, obj.pk or 0)
    # two documents in one field next to half of one: read as one stream they would shift
    client.hset(okey, mapping={"second": encode("x") + encode("y"), "third": encode("zz")[:-1]})
    for read in (lambda: Pair.get(obj.pk or 0), lambda: Pair.query(Pair.f.first == "a").all()):
        with pytest.raises(DecodeError) as info:
            read()
        assert info.value.field == "second" and info.value.key == okey.decode()
    client.hset(okey, mapping={"second": encode("b")})
    with pytest.raises(DecodeError) as info:
        Pair.objects.only(Pair.f.third).all()
    assert info.value.field == "third"


def test_a_field_the_hash_lacks_reads_as_its_default_or_names_itself(client: redis.Redis) -> None:
    """Rows hold None where the hash lacks a field (an older writer, a hand edit): a field with a
    default gets it, on every read path; one without fails naming the key and the field."""
    from typedredis import DecodeError

    class Late(Model, key=key("lacking")):
        name: Indexed[str]
        note: str = "none yet"
        size: int

    saved = [Late(name="a", size=i).save() for i in range(3)]
    okey = Late.spec().keys.object(0, saved[1].pk or 0)
    client.hdel(okey, "note")
    expected = Late(pk=saved[1].pk, name="a", size=1)
    assert Late.get(saved[1].pk or 0) == expected
    assert Late.query(Late.f.name == "a").all() == [saved[0], expected, saved[2]]
    assert Late.objects.only(Late.f.note).all() == [("none yet",), ("none yet",), ("none yet",)]
    client.hdel(okey, "size")
    for read in (lambda: Late.get(saved[1].pk or 0), lambda: Late.query(Late.f.name == "a").all()):
        with pytest.raises(DecodeError) as info:
            read()
        assert info.value.field == "size" and info.value.key == okey.decode()
