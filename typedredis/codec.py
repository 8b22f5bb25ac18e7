"""The value codec: Python values to msgpack bytes and back, plus canonical index members.

Every stored field value is one msgpack document. Types msgpack lacks travel as ext types
(codes below); everything else pydantic can rebuild from plain data (tuples, sets, enums,
nested models) is stored as plain data and rebuilt by validating against the model.

An *index member* is the byte string that identifies a value inside an index. It is the
msgpack encoding of the value's canonical form: values that Python considers equal get the
same bytes (``-0.0``/``0.0``, ``Decimal("1.0")``/``Decimal("1.00")``, aware datetimes at the
same instant, dicts in any order), while values of different kinds never do (``True``, ``1``,
``1.0`` and ``"1"`` are four different members).
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import math
import pathlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Final

import msgpack
from pydantic import BaseModel

from .errors import SchemaError

EXT_BIGINT: Final = 1
EXT_DATETIME: Final = 2
EXT_DATE: Final = 3
EXT_TIME: Final = 4
EXT_TIMEDELTA: Final = 5
EXT_DECIMAL: Final = 6
EXT_UUID: Final = 7
EXT_INSTANT: Final = 8
"""An index member only: an aware datetime whose instant lies outside datetime's range in UTC."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Instant:
    """The canonical form of an aware datetime that `astimezone(UTC)` cannot hold (year 1 with
    a positive offset, year 9999 with a negative one): microseconds since the epoch."""

    micros: int


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What `decode_stored` returns for a field that the stored hash lacks."""

_PLAIN_TYPES: Final = frozenset({str, bytes, bool, type(None)})
_STRINGLIKE = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
    pathlib.PurePath,
)


def _bigint(value: int) -> msgpack.ExtType:
    length = (value.bit_length() + 8) // 8
    return msgpack.ExtType(EXT_BIGINT, value.to_bytes(length, "big", signed=True))


def _default(obj: Any) -> Any:
    """msgpack's hook for types it cannot pack natively (and ints beyond 64 bits)."""
    if isinstance(obj, int) and not isinstance(obj, enum.Enum):
        return _bigint(int(obj))
    if isinstance(obj, datetime):
        return msgpack.ExtType(EXT_DATETIME, obj.isoformat().encode())
    if isinstance(obj, date):
        return msgpack.ExtType(EXT_DATE, obj.isoformat().encode())
    if isinstance(obj, time):
        return msgpack.ExtType(EXT_TIME, obj.isoformat().encode())
    if isinstance(obj, timedelta):
        payload = msgpack.packb([obj.days, obj.seconds, obj.microseconds])
        return msgpack.ExtType(EXT_TIMEDELTA, payload)
    if isinstance(obj, Decimal):
        return msgpack.ExtType(EXT_DECIMAL, str(obj).encode())
    if isinstance(obj, uuid.UUID):
        return msgpack.ExtType(EXT_UUID, obj.bytes)
    if isinstance(obj, _Instant):
        return msgpack.ExtType(EXT_INSTANT, msgpack.packb(obj.micros))
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if isinstance(obj, BaseModel):
        return dict(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, _STRINGLIKE):
        return str(obj)
    if type(obj).__module__ == "pydantic_core._pydantic_core" and type(obj).__name__.endswith("Url"):
        return str(obj)
    raise TypeError(f"cannot store a value of type {type(obj).__qualname__}")


_local = threading.local()


def packer() -> Callable[[Any], bytes]:
    """This thread's msgpack ``pack`` (a reused Packer is ~6x faster than ``msgpack.packb``).

    It raises TypeError for unsupported types; `encode` turns that into a `SchemaError`.
    """
    try:
        return _local.pack  # type: ignore[no-any-return]  # a threading.local attribute is Any
    except AttributeError:
        _local.pack = msgpack.Packer(default=_default, use_bin_type=True).pack
        return _local.pack  # type: ignore[no-any-return]  # a threading.local attribute is Any


def encode(value: Any) -> bytes:
    """Encode one field value as msgpack bytes; raises `SchemaError` for unsupported types."""
    try:
        return packer()(value)
    except TypeError as exc:
        raise SchemaError(str(exc)) from None


def _ext_hook(code: int, data: bytes) -> Any:
    if code == EXT_DATETIME:
        return datetime.fromisoformat(data.decode())
    if code == EXT_DATE:
        return date.fromisoformat(data.decode())
    if code == EXT_TIME:
        return time.fromisoformat(data.decode())
    if code == EXT_TIMEDELTA:
        days, seconds, micros = msgpack.unpackb(data)
        return timedelta(days=days, seconds=seconds, microseconds=micros)
    if code == EXT_DECIMAL:
        return Decimal(data.decode())
    if code == EXT_UUID:
        return uuid.UUID(bytes=data)
    if code == EXT_BIGINT:
        return int.from_bytes(data, "big", signed=True)
    raise ValueError(f"unknown msgpack ext type {code}")


def decode(data: bytes) -> Any:
    """Decode bytes written by `encode`; raises ValueError (or a subclass) on corrupt input."""
    return msgpack.unpackb(data, ext_hook=_ext_hook, raw=False, strict_map_key=False)


decode_value: Callable[[bytes], Any] = partial(
    msgpack.unpackb, ext_hook=_ext_hook, raw=False, strict_map_key=False
)
"""`decode` without its Python frame, for loops over many values (a TypeError for anything
that is not bytes)."""

decode_plain: Callable[[bytes], Any] = msgpack.unpackb
"""msgpack without typedredis' ext types (they come back as ``msgpack.ExtType``) and with
string map keys only: about half the cost of `decode_value` per value, for fields of plain
scalar types (fields.py, ``row_decoders``)."""


def _iso_decoder(code: int, parse: Callable[[str], Any]) -> Callable[[bytes], Any]:
    def decode_iso(data: bytes) -> Any:
        if len(data) > 3 and data[0] == 0xC7 and data[2] == code and data[1] == len(data) - 3:  # ext 8
            return parse(data[3:].decode())
        return decode_value(data)

    return decode_iso


decode_datetime: Callable[[bytes], Any] = _iso_decoder(EXT_DATETIME, datetime.fromisoformat)
"""`decode_value` for a field that holds datetimes, without msgpack and its ext hook on the
common path (~0.7 µs per value against ~1.4): the same value for the same bytes, whatever
they hold (anything but one ext-8 datetime goes through `decode_value`)."""
decode_date: Callable[[bytes], Any] = _iso_decoder(EXT_DATE, date.fromisoformat)
"""`decode_datetime` for dates."""


def decode_stored(raw: bytes | None) -> Any:
    """Decode one stored field value from a script's rows (None: the field is absent)."""
    if raw is None:
        return MISSING
    if not isinstance(raw, bytes):
        raise ValueError(f"expected stored bytes, found {type(raw).__name__}")
    return decode(raw)


def _canonical_decimal(value: Decimal) -> Decimal:
    if value.is_nan():
        return Decimal("NaN")
    if value == 0:
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # infinity
        return value
    trimmed = list(digits)
    while len(trimmed) > 1 and trimmed[-1] == 0:
        trimmed.pop()
        exponent += 1
    return Decimal((sign, tuple(trimmed), exponent))


def _canonical_time(value: time) -> time:
    offset = value.utcoffset()
    if offset is None:
        return value
    moment = datetime.combine(date(2000, 1, 1), value.replace(tzinfo=None)) - offset
    return moment.time().replace(tzinfo=UTC)


def canonical(value: Any) -> Any:
    """Return a value equal to ``value`` whose encoding is the same for all equal values."""
    kind = type(value)
    if kind in _PLAIN_TYPES or kind is int:
        return value
    if kind is float:
        if value == 0.0:
            return 0.0
        return math.nan if value != value else value
    if isinstance(value, enum.Enum):
        return canonical(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return canonical(float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            return value
        try:
            return value.astimezone(UTC)
        except OverflowError:  # every form of this instant overflows: it maps to one member
            return _Instant((value - _EPOCH) // timedelta(microseconds=1))
    if isinstance(value, time):
        return _canonical_time(value)
    if isinstance(value, Decimal):
        return _canonical_decimal(value)
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canonical(v) for v in value), key=encode)
    if isinstance(value, dict):
        items = [(canonical(k), canonical(v)) for k, v in value.items()]
        return dict(sorted(items, key=lambda kv: encode(kv[0])))
    if isinstance(value, BaseModel):
        return canonical(dict(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonical({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value


def index_member(value: Any) -> bytes:
    """The bytes that represent ``value`` inside an equality index."""
    kind = type(value)
    if kind is str or kind is bool or kind is bytes or value is None:
        return encode(value)
    return encode(canonical(value))


def encode_indexed(value: Any, pack: Callable[[Any], bytes] = encode) -> tuple[bytes, bytes]:
    """``(stored bytes, index member)`` of an indexed value; the member is ``b""`` when equal."""
    stored = pack(value)
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is bytes or value is None:
        return stored, b""
    member = encode(canonical(value))
    return stored, b"" if member == stored else member
