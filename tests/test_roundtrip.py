"""Hypothesis round-trip property: every supported field type comes back exactly as saved, and
every indexed value finds its object again."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import redis
from hypothesis import HealthCheck, given, settings
from pydantic import BaseModel

from typedredis import Indexed, Model

from .support import key


class Color(enum.Enum):
    RED = "red"
    ONE = 1


class Point(BaseModel):
    x: int
    y: float
    label: str | None = None


class Everything(Model, key=key("everything")):
    s: Indexed[str]
    i: Indexed[int]
    fl: Indexed[float]
    b: Indexed[bool]
    none: Indexed[None] = None
    by: Indexed[bytes]
    dec: Indexed[Decimal]
    uid: Indexed[uuid.UUID]
    color: Indexed[Color]
    dt: Indexed[datetime]
    d: Indexed[date]
    t: Indexed[time]
    td: Indexed[timedelta]
    items: Indexed[list[int]]
    pair: Indexed[tuple[str, int]]
    tags: Indexed[set[str]]
    frozen: Indexed[frozenset[int]]
    mapping: Indexed[dict[str, int]]
    point: Indexed[Point]
    maybe: Indexed[int | None]
    either: Indexed[int | str]
    plain_dt: datetime
    plain_nested: list[Point]


offsets = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-23 * 60, 23 * 60))
datetimes = st.one_of(st.datetimes(), st.datetimes(timezones=st.one_of(offsets, st.just(UTC))))
times = st.one_of(st.times(), st.times(timezones=offsets))
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: d.is_finite())
big_ints = st.one_of(
    st.integers(), st.integers(min_value=2**63, max_value=2**200), st.integers(max_value=-(2**63))
)
points = st.builds(Point, x=big_ints, y=st.floats(allow_nan=False), label=st.one_of(st.none(), st.text()))

everything = st.builds(
    Everything,
    s=st.text(),
    i=big_ints,
    fl=st.floats(allow_nan=False),
    b=st.booleans(),
    by=st.binary(),
    dec=decimals,
    uid=st.uuids(),
    color=st.sampled_from(Color),
    dt=datetimes,
    d=st.dates(),
    t=times,
    td=st.timedeltas(),
    items=st.lists(big_ints, max_size=4),
    pair=st.tuples(st.text(), st.integers()),
    tags=st.sets(st.text(), max_size=4),
    frozen=st.frozensets(st.integers(), max_size=4),
    mapping=st.dictionaries(st.text(), st.integers(), max_size=4),
    point=points,
    maybe=st.one_of(st.none(), st.integers()),
    either=st.one_of(st.integers(), st.text()),
    plain_dt=datetimes,
    plain_nested=st.lists(points, max_size=3),
)


def assert_identical(got: Any, want: Any) -> None:
    """Equal, and datetimes/times keep naive-ness and their UTC offset."""
    assert got == want
    for name in ("dt", "plain_dt", "t"):
        g, w = getattr(got, name), getattr(want, name)
        assert g.utcoffset() == w.utcoffset(), name
        assert (g.tzinfo is None) == (w.tzinfo is None), name
    assert type(got.pair) is tuple and type(got.tags) is set and type(got.frozen) is frozenset
    assert type(got.color) is Color and type(got.point) is Point
    assert str(got.dec) == str(want.dec), "Decimal keeps its exponent"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(obj=everything)
def test_every_type_round_trips_and_is_found_by_its_indexed_values(
    client: redis.Redis, obj: Everything
) -> None:
    obj.pk = None
    obj.save()
    assert obj.pk is not None
    got = Everything.get(obj.pk)
    assert_identical(got, obj)
    (via_query,) = [o for o in Everything.query(Everything.f.s == obj.s).all() if o.pk == obj.pk]
    assert_identical(via_query, obj)
    for field in Everything.spec().indexed:
        value = getattr(obj, field.name)
        assert obj.pk in Everything.query(getattr(Everything.f, field.name) == value).pks(), field.name
    obj.delete()


def test_equal_values_share_one_index_member(client: redis.Redis) -> None:
    class Canon(Model, key=key("canon")):
        fl: Indexed[float]
        dec: Indexed[Decimal]
        dt: Indexed[datetime]
        mapping: Indexed[dict[str, int]]
        t: Indexed[time]

    utc = datetime(2024, 1, 1, 12, tzinfo=UTC)
    oslo = datetime(2024, 1, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    a = Canon(
        fl=-0.0,
        dec=Decimal("1.00"),
        dt=oslo,
        mapping={"a": 1, "b": 2},
        t=time(13, tzinfo=timezone(timedelta(hours=1))),
    )
    a.save()
    assert Canon.query(Canon.f.fl == 0.0).pks() == [a.pk]
    assert Canon.query(Canon.f.dec == Decimal("1")).pks() == [a.pk]
    assert Canon.query(Canon.f.dt == utc).pks() == [a.pk]
    assert Canon.query(Canon.f.mapping == {"b": 2, "a": 1}).pks() == [a.pk]
    assert Canon.query(Canon.f.t == time(12, tzinfo=UTC)).pks() == [a.pk]
    assert Canon.query(Canon.f.dt == utc.replace(tzinfo=None)).pks() == []  # naive != aware
    got = Canon.get(a.pk)  # type: ignore[arg-type]
    assert str(got.dec) == "1.00" and got.dt.utcoffset() == timedelta(hours=1)
    assert str(got.fl) == "-0.0"


def test_nan_is_stored_and_matches_nan(client: redis.Redis) -> None:
    class Measure(Model, key=key("measure")):
        value: Indexed[float]

    m = Measure(value=float("nan")).save()
    assert Measure.get(m.pk).value != Measure.get(m.pk).value  # type: ignore[arg-type]
    assert Measure.query(Measure.f.value == float("nan")).pks() == [m.pk]
