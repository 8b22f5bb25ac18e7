"""Sorted fields against a real Redis: exact ranges at the precision edges, prefixes, ordering,
pagination (every server-side strategy), projections and bulk updates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import redis
from pydantic import ValidationError

from typedredis import Indexed, InvalidValue, Model, QueryError, SchemaError, Sorted

from . import support
from .support import check_invariants, key, session_keys


class Num(Model, key=key("num")):
    n: Sorted[int]
    x: Sorted[float] = 0.0
    d: Sorted[Decimal] = Decimal(0)
    tag: Indexed[str] = "a"


class When(Model, key=key("when")):
    at: Sorted[datetime]
    day: Sorted[date] = date(2000, 1, 1)
    clock: Sorted[time] = time(0)
    span: Sorted[timedelta] = timedelta(0)


class Doc(Model, key=key("doc")):
    kind: Indexed[str]
    title: Sorted[str | None] = None
    rank: Sorted[int] = 0


def test_ints_beyond_2_53_compare_exactly(client: redis.Redis) -> None:
    big = 2**53
    Num.save_all([Num(n=big), Num(n=big + 1), Num(n=big + 2), Num(n=-big - 1), Num(n=2**70)])
    assert Num.query(Num.f.n > big).pks() == [2, 3, 5]
    assert Num.query(Num.f.n == big + 1).pks() == [2]
    assert Num.query(Num.f.n.between(big, big + 1)).pks() == [1, 2]
    assert Num.query(Num.f.n < -big).pks() == [4]
    assert Num.objects.order_by(Num.f.n).pks() == [4, 1, 2, 3, 5]
    check_invariants(client, Num)


def test_floats_decimals_and_negative_zero(client: redis.Redis) -> None:
    Num.save_all(
        [
            Num(n=1, x=-0.0, d=Decimal("0.1000000000000000000000000000001")),
            Num(n=2, x=0.0, d=Decimal("0.1")),
            Num(n=3, x=5e-324, d=Decimal("-12345678901234567890.123456789")),
            Num(n=4, x=float("inf"), d=Decimal("1E+40")),
            Num(n=5, x=-float("inf"), d=Decimal("1.00")),
        ]
    )
    assert Num.query(Num.f.x == 0.0).pks() == [1, 2]  # -0.0 == 0.0
    assert Num.query(Num.f.x > 0.0).pks() == [3, 4]
    assert Num.query(Num.f.d > Decimal("0.1")).pks() == [1, 4, 5]
    assert Num.query(Num.f.d == Decimal(1)).pks() == [5]
    assert Num.objects.order_by(Num.f.d).pks() == [3, 2, 1, 5, 4]
    assert Num.objects.order_by(Num.f.x.desc()).pks() == [4, 3, 2, 1, 5]  # tie 0.0 / -0.0: pk desc
    check_invariants(client, Num)


def test_nan_is_refused_in_sorted_fields_and_writes_nothing(client: redis.Redis) -> None:
    with pytest.raises(SchemaError, match=r"Num\.x: NaN has no order"):
        Num.save_all([Num(n=1), Num(n=2, x=float("nan"))])
    with pytest.raises(InvalidValue, match=r"Num\.x: NaN has no order") as info:  # a 422 in an API
        Num.f.x < float("nan")  # noqa: B015
    assert isinstance(info.value, ValidationError) and info.value.field == "x"
    with pytest.raises(ValidationError, match="finite"):  # pydantic refuses a NaN Decimal itself
        Num.f.d < Decimal("NaN")  # noqa: B015
    assert not session_keys(client)


def test_datetimes_dates_times_and_timedeltas(client: redis.Redis) -> None:
    t0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
    plus2 = timezone(timedelta(hours=2))
    When.save_all(
        [
            When(at=t0, day=date(2024, 1, 1), clock=time(1), span=timedelta(days=-1)),
            When(at=t0.astimezone(plus2) + timedelta(microseconds=1), day=date(1, 1, 1), span=timedelta(0)),
            When(at=t0 - timedelta(days=365 * 30), day=date(9999, 12, 31), clock=time(23, 59, 59, 999999)),
        ]
    )
    assert When.query(When.f.at > t0).pks() == [2]  # one microsecond later, in another offset
    assert When.query(When.f.at == t0.astimezone(plus2)).pks() == [1]  # the same instant
    assert When.objects.order_by(When.f.day).pks() == [2, 1, 3]
    assert When.query(When.f.clock >= time(1)).pks() == [1, 3]
    assert When.query(When.f.span < timedelta(0)).pks() == [1]
    check_invariants(client, When)


def test_naive_datetimes_sort_before_aware_ones(client: redis.Redis) -> None:
    When.save_all([When(at=datetime(2030, 1, 1, tzinfo=UTC)), When(at=datetime(2040, 1, 1))])
    assert When.objects.order_by(When.f.at).pks() == [2, 1]
    assert When.query(When.f.at < datetime(2050, 1, 1)).pks() == [2]  # naive bound: naive values


def test_prefix_search_and_string_order(client: redis.Redis) -> None:
    titles = ["Re: a", "Re", "re: lower", "Rf", "R", "Re:\x00zero", "Ré", None]
    Doc.save_all([Doc(kind="k", title=t) for t in titles])
    assert Doc.query(Doc.f.title.startswith("Re")).pks() == [1, 2, 6]
    assert Doc.query(Doc.f.title.startswith("")).count() == 7  # every string, not None
    assert Doc.objects.order_by(Doc.f.title).pks() == [8, 5, 2, 6, 1, 4, 7, 3]  # None first
    with pytest.raises(QueryError, match="Sorted\\[str\\]"):
        Num.f.n.startswith("1")  # type: ignore[attr-defined]


def test_ranges_never_match_none_but_negations_do(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="k", title="m"), Doc(kind="k")])
    assert Doc.query(Doc.f.title < "z").pks() == [1]
    assert Doc.query(~(Doc.f.title >= "n")).pks() == [1, 2]
    assert Doc.query(Doc.f.title == None).pks() == [2]  # noqa: E711


def test_ranges_combine_with_equality_and_or(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="a" if i % 2 else "b", title=f"t{i:02}", rank=i) for i in range(20)])
    assert Doc.query(Doc.f.kind == "a", Doc.f.rank >= 15).pks() == [16, 18, 20]
    assert Doc.query((Doc.f.rank < 2) | (Doc.f.rank > 17)).pks() == [1, 2, 19, 20]
    assert Doc.query(Doc.f.rank.in_([3, 5, 7])).pks() == [4, 6, 8]
    assert Doc.objects.filter(rank__gte=10, rank__lt=12, kind="b").pks() == [11]
    assert Doc.objects.filter(title__startswith="t1").count() == 10
    assert Doc.query(Doc.f.rank > 100).order_by(Doc.f.rank).all() == []


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    ("kind", "strategy"),
    [("dense", "walk the sorted index"), ("sparse", "sort the filtered set"), (None, "whole model")],
)
def test_every_page_strategy_matches_sorting_in_python(
    client: redis.Redis, kind: str | None, strategy: str, descending: bool
) -> None:
    kinds = ["sparse" if i % 30 == 0 else "other" if i % 3 == 0 else "dense" for i in range(300)]
    docs = [Doc(kind=k, rank=i % 7) for i, k in enumerate(kinds)]
    Doc.save_all(docs)
    matching = [d for d in docs if kind is None or d.kind == kind]
    expected = [d.pk for d in sorted(matching, key=lambda d: (d.rank, d.pk), reverse=descending)]
    query = Doc.objects if kind is None else Doc.query(Doc.f.kind == kind)
    ordered = query.order_by(Doc.f.rank.desc() if descending else Doc.f.rank)
    n = len(expected)
    for offset, limit in [(0, 20), (40, 20), (0, None), (n - 3, 10), (n + 5, 5), (7, 0), (0, 0)]:
        page = ordered.offset(offset)
        page = page if limit is None else page.limit(limit)
        want = expected[offset:] if limit is None else expected[offset : offset + limit]
        assert page.pks() == want, (strategy, offset, limit)
        assert [d.pk for d in page.all()] == want
        assert page.count() == len(want)
        assert page.first() == (Doc.get(want[0]) if want else None)


def test_range_of_the_order_field_pages_from_the_index(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="k", rank=i) for i in range(50)])
    page = Doc.query(Doc.f.rank >= 10).order_by(Doc.f.rank.desc()).offset(5).limit(3)
    assert page.pks() == [45, 44, 43]
    assert page.plan("pks")["strategy"] == "rank"  # read by rank from the index: O(log N + page)
    assert Doc.query(Doc.f.rank.between(3, 5)).order_by(Doc.f.rank).pks() == [4, 5, 6]


def test_unordered_pages_are_by_pk(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="k") for _ in range(10)])
    assert Doc.objects.offset(3).limit(4).pks() == [4, 5, 6, 7]
    assert Doc.objects.limit(2).count() == 2 and Doc.objects.offset(9).exists()
    assert not Doc.objects.offset(10).exists()


def test_only_returns_validated_tuples_in_order(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="k", title=f"t{i}", rank=i) for i in range(5)])
    rows = Doc.objects.order_by(Doc.f.rank.desc()).limit(2).only(Doc.f.title, Doc.f.rank).all()
    assert rows == [("t4", 4), ("t3", 3)]
    assert Doc.query(Doc.f.rank == 2).only(Doc.f.kind).first() == ("k",)
    assert list(Doc.objects.only(Doc.f.rank).iter(batch=2)) == [(i,) for i in range(5)]


def test_update_maintains_equality_and_range_indexes(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="a", title=f"t{i}", rank=i) for i in range(6)])
    assert Doc.query(Doc.f.rank >= 3).update(kind="b", rank=10, title=None) == 3
    assert Doc.query(Doc.f.kind == "b").pks() == [4, 5, 6]
    assert Doc.query(Doc.f.rank == 10).pks() == [4, 5, 6]
    assert Doc.query(Doc.f.title == None).pks() == [4, 5, 6]  # noqa: E711
    assert Doc.query(Doc.f.kind == "zzz").update(kind="c") == 0
    check_invariants(client, Doc)
    with pytest.raises(ValidationError):
        Doc.objects.update(rank="high")
    with pytest.raises(QueryError, match="remove limit"):
        Doc.objects.limit(2).update(kind="c")
    with pytest.raises(QueryError, match="no field"):
        Doc.objects.update(nope=1)
    check_invariants(client, Doc)


def test_order_by_refuses_unsorted_and_foreign_fields() -> None:
    with pytest.raises(QueryError, match="no range index"):
        Doc.objects.order_by(Doc.f.kind)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="cannot order"):
        Doc.objects.order_by(Num.f.n)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="no range index"):
        Doc.f.kind < "x"  # type: ignore[operator]  # noqa: B015
    kind: Any = Doc.f.kind  # to type checkers an Indexed field has none of these methods
    for use in (lambda: kind.between("a", "b"), lambda: kind.startswith("a"), kind.asc, kind.desc):
        with pytest.raises(QueryError, match=r"Doc\.kind has no range index.*Sorted\["):
            use()


def test_a_small_candidate_set_probes_instead_of_scanning_the_range(client: redis.Redis) -> None:
    Doc.save_all([Doc(kind="rare" if i % 50 == 0 else "common", rank=i) for i in range(1000)])
    rare_big = Doc.query(Doc.f.kind == "rare", Doc.f.rank >= 100)  # 18 candidates, 900 in range
    assert rare_big.pks() == [i + 1 for i in range(100, 1000, 50)]
    assert rare_big.order_by(Doc.f.rank.desc()).limit(2).pks() == [951, 901]
    common_small = Doc.query(Doc.f.kind == "common", Doc.f.rank < 10)  # the range is smaller
    assert common_small.pks() == list(range(2, 11))
    assert Doc.query(Doc.f.kind == "nobody", Doc.f.rank < 10).count() == 0
    plan = rare_big.plan("pks")  # the 20 candidates are tested (or their sort keys sorted)...
    assert plan["strategy"] in ("probe", "sets") and plan["cost"] is not None
    assert plan["cost"] < 500, plan  # ...not the 900 objects in range collected (cost >= 1 800)
    assert common_small.plan("pks")["strategy"] in ("probe", "sets")
    check_invariants(client, Doc)


def test_sorted_types_are_checked_when_the_class_is_defined() -> None:
    from pydantic import AwareDatetime, PastDate

    class Stamped(Model, key=key("stamped")):
        at: Sorted[AwareDatetime]
        day: Sorted[PastDate]

    assert Stamped.spec().sorted_names == ("at", "day")
    with pytest.raises(SchemaError, match=r"Tagged\.tags: a Sorted field must be"):

        class Tagged(Model, key=key("tagged")):
            tags: Sorted[list[int]]


@pytest.mark.parametrize("descending", [False, True])
def test_a_page_within_a_range_of_the_order_field(client: redis.Redis, descending: bool) -> None:
    docs = [Doc(kind="a" if i % 4 == 0 else "b", rank=i) for i in range(2000)]
    Doc.save_all(docs)
    cases = [("a", 1000, 0, 20), ("a", 1000, 30, 5), ("b", 1990, 0, 20), ("a", 5000, 0, 5)]
    for kind, low, offset, limit in cases:
        matching = [d for d in docs if d.kind == kind and d.rank >= low]
        want = sorted(matching, key=lambda d: d.rank, reverse=descending)
        page = Doc.query(Doc.f.kind == kind, Doc.f.rank >= low)
        page = page.order_by(Doc.f.rank.desc() if descending else Doc.f.rank).offset(offset).limit(limit)
        assert page.pks() == [d.pk for d in want[offset : offset + limit]], (kind, low, offset, limit)


def test_a_filter_correlated_with_the_order_falls_back_to_sorting(client: redis.Redis) -> None:
    docs = [Doc(kind="old" if i < 100 else "new", rank=i) for i in range(5000)]  # "old" = lowest ranks
    Doc.save_all(docs)
    for server in support.servers(client):  # every primary of a cluster
        server.config_resetstat()
    newest_old = Doc.query(Doc.f.kind == "old").order_by(Doc.f.rank.desc()).limit(3)
    assert newest_old.pks() == [100, 99, 98]
    walked = support.commandstats(client).get("cmdstat_smismember", {}).get("calls", 0)
    assert walked <= 3, f"the walk should give up after ~2 x 100 entries, made {walked} membership checks"
    assert Doc.query(Doc.f.kind == "old").order_by(Doc.f.rank).limit(3).pks() == [1, 2, 3]
