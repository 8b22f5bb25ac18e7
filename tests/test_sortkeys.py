"""Sort keys without Redis: byte order equals value order, exactly, and keys are prefix-free."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import given

from typedredis.errors import SchemaError
from typedredis.sortkeys import (
    AFTER_PK,
    NONE_KEY,
    decimal_key,
    encoder_for,
    float_key,
    int_key,
    pk_bytes,
    str_key,
    str_prefix,
)


def assert_order_preserved(values: list[Any], key: Any) -> None:
    keys = [key(v) for v in values]
    for a, ka in zip(values, keys, strict=True):
        for b, kb in zip(values, keys, strict=True):
            assert (a < b) == (ka < kb), (a, b)
            assert (a == b) == (ka == kb), (a, b)
            if ka != kb:
                assert not kb.startswith(ka), f"{ka!r} is a prefix of {kb!r}"


big_ints = st.one_of(st.integers(), st.integers(min_value=-(2**300), max_value=2**300))


@given(st.lists(big_ints, min_size=2, max_size=8))
def test_int_keys(values: list[int]) -> None:
    assert_order_preserved(values, int_key)


@given(st.lists(st.floats(allow_nan=False), min_size=2, max_size=8))
def test_float_keys(values: list[float]) -> None:
    assert_order_preserved(values, float_key)


decimals = st.decimals(allow_nan=False, places=None)


@given(st.lists(st.one_of(decimals, big_ints, st.floats(allow_nan=False)), min_size=2, max_size=8))
def test_decimal_keys_order_all_numbers_exactly(values: list[Any]) -> None:
    assert_order_preserved(values, decimal_key)


@given(st.lists(st.text(), min_size=2, max_size=8))
def test_str_keys(values: list[str]) -> None:
    assert_order_preserved(values, str_key)


@given(st.text(), st.text())
def test_str_prefix_bounds_every_string_starting_with_it(prefix: str, rest: str) -> None:
    key = str_key(prefix + rest)
    assert str_prefix(prefix) <= key < str_prefix(prefix) + b"\xff"


offsets = st.builds(lambda m: timezone(timedelta(minutes=m)), st.integers(-23 * 60, 23 * 60))


@given(st.lists(st.datetimes(timezones=st.one_of(offsets, st.just(UTC))), min_size=2, max_size=8))
def test_aware_datetime_keys(values: list[datetime]) -> None:
    assert_order_preserved(values, encoder_for(datetime, "t"))


@given(st.lists(st.datetimes(), min_size=2, max_size=8))
def test_naive_datetime_keys(values: list[datetime]) -> None:
    assert_order_preserved(values, encoder_for(datetime, "t"))


@given(st.lists(st.dates(), min_size=2, max_size=8))
def test_date_keys(values: list[date]) -> None:
    assert_order_preserved(values, encoder_for(date, "t"))


@given(st.lists(st.times(), min_size=2, max_size=8))
def test_time_keys(values: list[time]) -> None:
    assert_order_preserved(values, encoder_for(time, "t"))


@given(st.lists(st.timedeltas(), min_size=2, max_size=8))
def test_timedelta_keys(values: list[timedelta]) -> None:
    assert_order_preserved(values, encoder_for(timedelta, "t"))


def test_precision_edges_stay_exact() -> None:
    key = encoder_for(int, "t")
    assert key(2**53) < key(2**53 + 1) < key(2**53 + 2)  # equal as doubles
    dkey = encoder_for(Decimal, "t")
    assert dkey(Decimal("0.1000000000000000000000000000001")) > dkey(Decimal("0.1"))
    assert dkey(Decimal("1.0")) == dkey(Decimal("1.00")) == dkey(Decimal("1"))
    fkey = encoder_for(float, "t")
    assert fkey(-0.0) == fkey(0.0)
    tkey = encoder_for(datetime, "t")
    moment = datetime(2024, 1, 1, 12, tzinfo=UTC)
    assert tkey(moment) == tkey(moment.astimezone(timezone(timedelta(hours=5))))
    assert tkey(moment) < tkey(moment + timedelta(microseconds=1))
    assert tkey(datetime(9999, 1, 1)) < tkey(datetime(1, 1, 1, tzinfo=UTC))  # naive before aware


def test_nan_and_unsupported_types_are_refused() -> None:
    with pytest.raises(SchemaError, match="NaN"):
        encoder_for(float, "t")(float("nan"))
    with pytest.raises(SchemaError, match="NaN"):
        encoder_for(Decimal, "t")(Decimal("NaN"))
    with pytest.raises(SchemaError, match="Sorted field must be"):
        encoder_for(list[int], "Event.tags")
    with pytest.raises(SchemaError, match="Sorted field must be"):
        encoder_for(int | str, "Event.mixed")


def test_none_sorts_first_and_ties_sort_by_pk() -> None:
    key = encoder_for(int | None, "t")
    assert key(None) == NONE_KEY < key(-(10**30))
    assert key(5) + pk_bytes(1) < key(5) + pk_bytes(2) < key(5) + AFTER_PK < key(6) + pk_bytes(0)


def test_aware_datetimes_beyond_utc_range_keep_their_order() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from typedredis.sortkeys import encoder_for

    key = encoder_for(datetime, "M.at")
    low = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(minutes=1)))  # 0000-12-31 23:59 UTC
    values = [
        low,
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(minutes=-1))),
    ]
    assert [key(v) for v in values] == sorted(key(v) for v in values)
