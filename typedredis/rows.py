"""Rows read from Redis become model instances or tuples; corrupt bytes raise `DecodeError`.

A script returns rows as one flat array, ``[pk, value1, ..., valuen, pk, ...]`` (see lib.lua,
``pack_rows``), in which each value is the stored bytes of one field (None where the hash lacks
the field), so every field decodes on its own bounds: bytes holding two msgpack documents, or
half of one, fail in their own field and never shift the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import ValidationError

from .codec import MISSING, decode_stored, decode_value
from .errors import DecodeError
from .fields import ModelSpec

if TYPE_CHECKING:
    from .model import Model

M = TypeVar("M", bound="Model")

STORED = "__typedredis_stored__"
"""The key, in a loaded (or saved) instance's ``__dict__``, of ``(pk, the stored bytes of each
field)`` as last read or written: a save writes only the fields whose encoding differs. (An
extra ``__dict__`` key is ignored by pydantic's equality, dumps and repr.)"""


def _checked(flat: list[Any], width: int) -> int:
    step = width + 1
    if not isinstance(flat, list) or len(flat) % step:
        size = len(flat) if isinstance(flat, list) else type(flat).__name__
        raise ValueError(f"a rows reply of {size} items is not made of rows of {step}")
    return step


def rows(flat: list[Any], width: int) -> Iterator[tuple[int, list[Any]]]:
    """``(pk, raw values)`` for each row of a rows reply of ``width`` fields per row."""
    step = _checked(flat, width)
    for at in range(0, len(flat), step):
        yield flat[at], flat[at + 1 : at + step]


def decode_objects(spec: ModelSpec[M], gen: int, flat: list[Any]) -> list[tuple[int, M]]:
    """``(pk, instance)`` for each row of a rows reply of every stored field: `decode_object`
    for each, in one loop, with each field's fast decoder (`ModelSpec.row_decoders`, written
    out in `ModelSpec.row_builder`); a query's rows spend most of their client time here."""
    step = _checked(flat, len(spec.stored))
    validate, build = spec.validator.validate_python, spec.row_builder
    out: list[tuple[int, M]] = []
    append = out.append
    for at in range(0, len(flat), step):
        pk, raw = flat[at], flat[at + 1 : at + step]
        try:  # every field present, well formed and valid: the common case
            obj = validate(build(raw, pk), by_name=True)
        except Exception:  # an absent field (None), corrupt bytes, an ext type or invalid data
            obj = decode_object(spec, gen, pk, raw)  # (exact: it raises naming key and field)
        obj.__dict__[STORED] = (pk, raw)
        append((pk, obj))
    return out


def _values(spec: ModelSpec[Any], gen: int, pk: int, raw: list[Any], names: tuple[str, ...]) -> list[Any]:
    out = []
    for name, value in zip(names, raw, strict=True):
        try:
            out.append(decode_stored(value))
        except Exception as exc:
            key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
            raise DecodeError(
                f"{key}: field {name!r} holds bytes that are not a typedredis value "
                f"({type(exc).__name__}: {str(exc)[:200]})",
                key=key,
                field=name,
            ) from exc
    return out


def decode_object(spec: ModelSpec[M], gen: int, pk: int, raw: list[Any]) -> M:
    """A model instance from the raw stored values of every field (in `ModelSpec.stored` order)."""
    try:  # every field present and well formed: the common case, in one pass
        data: dict[str, Any] = {name: decode_value(v) for name, v in zip(spec.stored, raw, strict=True)}
    except Exception:  # an absent field (None), or corrupt bytes: field by field, naming it
        values = _values(spec, gen, pk, raw, spec.stored)
        data = {name: value for name, value in zip(spec.stored, values, strict=True) if value is not MISSING}
    data["pk"] = pk
    try:
        obj = cast("M", spec.validator.validate_python(data, by_name=True))
    except ValidationError as exc:
        key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
        failed = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]} & set(spec.stored))
        field = failed[0] if len(failed) == 1 else None
        where = f"field {field!r} of " if field else ""
        raise DecodeError(
            f"{key}: {where}stored data does not validate as {spec.model.__qualname__}: {exc}",
            key=key,
            field=field,
        ) from exc
    obj.__dict__[STORED] = (pk, raw)  # (rows() hands out a fresh list per row: never changed)
    return obj


def decode_projection(
    spec: ModelSpec[Any], gen: int, pk: int, raw: list[Any], fields: tuple[str, ...]
) -> tuple[Any, ...]:
    """The validated values of ``fields`` (absent fields get their default), as a tuple."""
    out = []
    for name, value in zip(fields, _values(spec, gen, pk, raw, fields), strict=True):
        try:
            if value is MISSING:
                out.append(spec.model.model_fields[name].get_default(call_default_factory=True))
            else:
                out.append(spec.by_name[name].validate(value))
        except ValidationError as exc:
            key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
            raise DecodeError(f"{key}: field {name!r} does not validate: {exc}", key=key, field=name) from exc
    return tuple(out)
