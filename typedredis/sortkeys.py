"""Order-preserving byte encodings: the sort keys of `Sorted` fields.

A range index is a Redis sorted set whose members all have score 0 and are compared as bytes
(``ZRANGEBYLEX``), so each value becomes a *sort key*: a byte string whose ``memcmp`` order is
the value's order, and which is prefix-free (no key is a prefix of another), so that the
8-byte primary key appended to it breaks ties without ever changing the order of values.
Every key is exact: ints of any size, Decimals of any precision and microsecond datetimes
compare exactly, where a double score would round them.

Layout of a key: ``0x00`` for None (it sorts first and is never inside a range), or ``0x01``
followed by the type's encoding:

- int: a length byte (``0x80 + n`` for n magnitude bytes, ``0x7f - n`` for negatives, whose
  magnitude bytes are complemented), then the magnitude, big-endian;
- float: the IEEE-754 bits, big-endian, sign bit flipped (all bits for negatives); ``-0.0`` is
  ``0.0``; NaN has no order and is refused;
- Decimal, and unions of numbers: sign class, then the decimal exponent (as an int key) and
  the digits two per byte, terminated; complemented for negatives; NaN refused;
- datetime: ``0x01`` + int key of microseconds since 0001-01-01 for naive values, ``0x02`` +
  the same for aware values in UTC (naive values sort before all aware ones);
- date: int key of the ordinal; time: like datetime, from midnight (aware: in UTC);
  timedelta: int key of its microseconds;
- str: UTF-8 with ``0x00`` escaped as ``0x00 0x01``, terminated by ``0x00 0x00``; no key holds
  ``0xff``, so ``prefix + 0xff`` bounds a prefix search.
"""

from __future__ import annotations

import struct
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

from .errors import SchemaError

NONE_KEY: Final = b"\x00"
"""The sort key of None: below every value."""
VALUE: Final = b"\x01"
"""The first byte of the sort key of every value that is not None."""
AFTER_PK: Final = b"\xff" * 8
"""Appended to a key, sorts after ``key + pk`` for every primary key (pks stay below 2**53)."""
AFTER_PREFIX: Final = b"\xff"
"""Appended to a str key's unterminated prefix, bounds every string with that prefix."""

SortKey = Callable[[Any], bytes]

_EPOCH_NAIVE: Final = datetime(1, 1, 1)
_EPOCH_AWARE: Final = datetime(1, 1, 1, tzinfo=UTC)
_MIDNIGHT: Final = datetime(2000, 1, 1)


def int_key(value: int) -> bytes:
    """Order-preserving, prefix-free encoding of an int of any size (up to 127 bytes)."""
    if value == 0:
        return b"\x80"
    magnitude = abs(value)
    length = (magnitude.bit_length() + 7) // 8
    if length > 127:
        raise SchemaError(f"integer too large for a sorted index ({length} bytes; the limit is 127)")
    raw = magnitude.to_bytes(length, "big")
    if value > 0:
        return bytes([0x80 + length]) + raw
    return bytes([0x7F - length]) + bytes(255 - b for b in raw)


def float_key(value: float) -> bytes:
    """IEEE-754 order: sign bit flipped for positives, every bit flipped for negatives."""
    if value != value:
        raise SchemaError("NaN has no order, so it cannot be stored in a Sorted field")
    if value == 0.0:
        value = 0.0
    (bits,) = struct.unpack(">Q", struct.pack(">d", value))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return struct.pack(">Q", bits)


def decimal_key(value: Decimal | int | float) -> bytes:
    """Exact numeric order for Decimals (and ints/floats mixed with them in one field)."""
    number = value if isinstance(value, Decimal) else Decimal(value)
    if number.is_nan():
        raise SchemaError("NaN has no order, so it cannot be stored in a Sorted field")
    if number.is_infinite():
        return b"\x04" if number > 0 else b"\x00"
    if number == 0:
        return b"\x02"
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    trimmed = list(digits)
    while trimmed and trimmed[0] == 0:
        trimmed.pop(0)
    while trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    magnitude_exponent = exponent + len(trimmed)  # value = 0.d1d2... * 10**magnitude_exponent
    if len(trimmed) % 2:
        trimmed.append(0)
    pairs = bytes(1 + trimmed[i] * 10 + trimmed[i + 1] for i in range(0, len(trimmed), 2)) + b"\x00"
    body = int_key(magnitude_exponent) + pairs
    if sign:
        return b"\x01" + bytes(255 - b for b in body)
    return b"\x03" + body


def _datetime_key(value: datetime) -> bytes:
    if value.utcoffset() is None:
        return b"\x01" + int_key((value - _EPOCH_NAIVE) // timedelta(microseconds=1))
    # aware subtraction converts through the offsets without building a UTC datetime, which
    # would overflow for instants before 0001-01-01 UTC or after 9999-12-31 UTC
    return b"\x02" + int_key((value - _EPOCH_AWARE) // timedelta(microseconds=1))


def _time_key(value: time) -> bytes:
    offset = value.utcoffset()
    since_midnight = datetime.combine(_MIDNIGHT, value.replace(tzinfo=None)) - _MIDNIGHT
    micros = since_midnight // timedelta(microseconds=1)
    if offset is None:
        return b"\x01" + int_key(micros)
    return b"\x02" + int_key((micros - offset // timedelta(microseconds=1)) % 86_400_000_000)


def _date_key(value: date) -> bytes:
    return int_key(value.toordinal())


def _timedelta_key(value: timedelta) -> bytes:
    return int_key(value // timedelta(microseconds=1))


def str_prefix(value: str) -> bytes:
    """The escaped UTF-8 of ``value`` without its terminator: every longer string starts with it."""
    return value.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x00\x01")


def str_key(value: str) -> bytes:
    """Code point order (Python's ``str`` order), prefix-free."""
    return str_prefix(value) + b"\x00\x00"


_ENCODERS: Final[dict[type, SortKey]] = {
    bool: lambda v: int_key(int(v)),
    int: int_key,
    float: float_key,
    Decimal: decimal_key,
    datetime: _datetime_key,
    date: _date_key,
    time: _time_key,
    timedelta: _timedelta_key,
    str: str_key,
}
_NAMES: Final[dict[type, str]] = {
    bool: "int",  # True and False sort as 1 and 0
    int: "int",
    float: "float",
    Decimal: "decimal",
    datetime: "datetime",
    date: "date",
    time: "time",
    timedelta: "timedelta",
    str: "str",
}
"""The name of each type's encoding (`encoding_for`): one per distinct sort-key function."""
SUPPORTED: Final = "int, float, Decimal, datetime, date, time, timedelta or str (optionally | None)"

_PYDANTIC_ALIASES: Final[dict[str, type]] = {
    "AwareDatetime": datetime,
    "NaiveDatetime": datetime,
    "PastDatetime": datetime,
    "FutureDatetime": datetime,
    "PastDate": date,
    "FutureDate": date,
}
"""pydantic's constrained date/time marker classes (not subclasses) and the type their values have."""


def _types_of(annotation: Any) -> tuple[list[type], bool]:
    """The concrete types of an annotation (unions flattened) and whether None is allowed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _types_of(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        found: list[type] = []
        optional = False
        for arg in typing.get_args(annotation):
            kinds, none = _types_of(arg)
            found += kinds
            optional = optional or none
        return found, optional
    if annotation is None or annotation is type(None):
        return [], True
    if isinstance(annotation, type):
        if annotation.__module__ == "pydantic.types" and annotation.__name__ in _PYDANTIC_ALIASES:
            return [_PYDANTIC_ALIASES[annotation.__name__]], False
        return [annotation], False
    raise SchemaError(f"a Sorted field must be {SUPPORTED}, not {annotation!r}")


def encoding_for(annotation: Any, where: str) -> str:
    """The name of the sort-key encoding of a field annotated ``annotation`` (``int``,
    ``decimal``, ``str``...): stored in Redis with each sorted index, so that a change of the
    field's type that changes its sort keys is detected, not served from keys of the other kind."""
    return _choose(annotation, where)[0]


def encoder_for(annotation: Any, where: str) -> SortKey:
    """The sort-key function of a field annotated ``annotation`` (``where`` names it in errors).

    The encoding is chosen by the declared type, not by each value's runtime type, so that all
    values of one field share one order: a union of numbers uses the exact decimal encoding.
    """
    encode = _choose(annotation, where)[1]
    optional = _types_of(annotation)[1]

    def key(value: Any) -> bytes:
        if value is None:
            return NONE_KEY
        return VALUE + encode(value)

    if not optional:
        return lambda value: VALUE + encode(value)
    return key


def _choose(annotation: Any, where: str) -> tuple[str, Callable[[Any], bytes]]:
    try:
        kinds, _ = _types_of(annotation)
    except SchemaError as exc:
        raise SchemaError(f"{where}: {exc}") from None
    kinds = [k for k in kinds if k is not type(None)]
    numeric = {int, float, Decimal, bool}
    if kinds and set(kinds) <= numeric and len(set(kinds)) > 1:
        return "decimal", decimal_key
    if len(kinds) == 1 and kinds[0] in _ENCODERS:
        return _NAMES[kinds[0]], _ENCODERS[kinds[0]]
    if len(kinds) == 1 and issubclass(kinds[0], (int, str)) and not issubclass(kinds[0], bool):
        base = int if issubclass(kinds[0], int) else str  # e.g. a str- or int-Enum
        return _NAMES[base], _ENCODERS[base]
    raise SchemaError(f"{where}: a Sorted field must be {SUPPORTED}, not {annotation!r}")


def pk_bytes(pk: int) -> bytes:
    """The 8-byte big-endian primary key appended to sort keys (ties sort by pk)."""
    return pk.to_bytes(8, "big")

