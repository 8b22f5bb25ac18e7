"""The codec without Redis: exact round trips, canonical index members, row decoding."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel

from typedredis.codec import MISSING, decode, decode_stored, encode, index_member
from typedredis.errors import SchemaError


class Color(enum.Enum):
    RED = "red"


class Inner(BaseModel):
    a: int


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x",
        b"\xff\x00",
        0,
        -1,
        2**63,
        2**64 - 1,
        2**64,
        -(2**63) - 1,
        2**300,
        1.5,
        -0.0,
        True,
        None,
        Decimal("1.00"),
        Decimal("-123456789012345678901234567890.123456789"),
        uuid.UUID(int=5),
        datetime(2024, 2, 29, 23, 59, 59, 999999),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
        date(1, 1, 1),
        time(1, 2, 3, 4),
        time(1, tzinfo=UTC),
        timedelta(days=-3, microseconds=7),
        [1, "a"],
        {"k": [1, 2]},
        {1: "int key"},
    ],
)
def test_round_trip(value: object) -> None:
    assert decode(encode(value)) == value
    assert type(decode(encode(value))) is type(value)


def test_values_pydantic_rebuilds() -> None:
    assert decode(encode(Color.RED)) == "red"
    assert decode(encode(Inner(a=1))) == {"a": 1}
    assert sorted(decode(encode({3, 1, 2}))) == [1, 2, 3]
    assert decode(encode((1, 2))) == [1, 2]


def test_members_of_different_kinds_never_collide() -> None:
    members = [index_member(v) for v in (True, 1, 1.0, "1", b"1", None, Decimal(1), [1], {"1": 1})]
    assert len(set(members)) == len(members)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (0.0, -0.0),
        (Decimal("1.0"), Decimal("1.00")),
        (Decimal("100"), Decimal("1E+2")),
        (Decimal("0"), Decimal("-0.000")),
        (datetime(2024, 1, 1, 12, tzinfo=UTC), datetime(2024, 1, 1, 14, tzinfo=timezone(timedelta(hours=2)))),
        (time(12, tzinfo=UTC), time(13, tzinfo=timezone(timedelta(hours=1)))),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
        ({1, 2, 3}, {3, 2, 1}),
        (Color.RED, "red"),
        (Inner(a=1), {"a": 1}),
        (float("nan"), -float("nan")),
    ],
)
def test_equal_values_have_one_member(a: object, b: object) -> None:
    assert index_member(a) == index_member(b)


def test_long_decimals_are_not_rounded_by_the_decimal_context() -> None:
    a = Decimal("1." + "0" * 40 + "1")
    assert index_member(a) != index_member(Decimal(1))
    assert decode(index_member(a)) == a


def test_naive_and_aware_datetimes_differ() -> None:
    assert index_member(datetime(2024, 1, 1)) != index_member(datetime(2024, 1, 1, tzinfo=UTC))


def test_unsupported_types_raise_schema_error() -> None:
    with pytest.raises(SchemaError, match="cannot store a value of type object"):
        encode(object())


def test_rows_keep_each_value_on_its_own_bounds() -> None:
    values = [encode(v) for v in ("a", 1, None)]
    raw = [*values, None]  # each field its own bulk string; None where the hash lacks the field
    assert [decode_stored(v) for v in raw] == ["a", 1, None, MISSING]
    with pytest.raises(ValueError):
        decode_stored(encode("a") + encode("b"))  # two documents in one field
    with pytest.raises(ValueError):
        decode_stored(encode("abc")[:-1])  # half of one


def test_aware_datetimes_at_the_edges_of_the_range_have_members() -> None:
    # astimezone(UTC) overflows for these instants (found by the round-trip property)
    low = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(minutes=1)))
    same = datetime(1, 1, 1, 0, 1, tzinfo=timezone(timedelta(minutes=2)))
    high = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(minutes=-1)))
    assert index_member(low) == index_member(same) != index_member(high)
    assert index_member(low) != index_member(datetime(1, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("fast", ["datetime", "date"])
@pytest.mark.parametrize(
    "data",
    [
        encode(datetime(2024, 2, 29, 23, 59, 59, 999999)),
        encode(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-5)))),
        encode(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        encode(date(2024, 1, 2)),
        encode(time(1, 2, 3)),  # an ext of another code (fixext 8)
        encode(None),
        encode("2024-01-02"),
        encode(2**70),
        encode(datetime(2024, 1, 1)) + b"x",  # one byte beyond the ext
        encode(datetime(2024, 1, 1))[:-1],  # one byte short
        b"\xc7\x03\x02abc",  # a datetime ext whose text is no datetime
        b"\xc7",
        b"",
        None,
    ],
)
def test_fast_date_decoders_read_every_input_as_the_exact_decoder(fast: str, data: bytes | None) -> None:
    """A query's rows decode date and datetime fields with a shortcut (codec.decode_datetime,
    decode_date): for any bytes it returns what `decode_value` returns, or raises where it raises."""
    from typedredis.codec import decode_date, decode_datetime, decode_value

    shortcut = decode_datetime if fast == "datetime" else decode_date
    try:
        expected: object = decode_value(data)  # type: ignore[arg-type]  # None: both must raise
    except Exception as exc:
        with pytest.raises(type(exc)):
            shortcut(data)  # type: ignore[arg-type]  # (the same)
        return
    got = shortcut(data)  # type: ignore[arg-type]  # (the same)
    assert got == expected and type(got) is type(expected)
