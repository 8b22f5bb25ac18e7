"""Every Redis interaction of typedredis as a sans-IO operation (see `typedredis.plan`).

An operation validates and encodes everything it will send *before* its first yield, so bad
input raises before any byte reaches Redis. Executors drive operations; they never decide
what to send.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from .codec import MISSING, decode, decode_row, encode, encode_indexed, packer, split_row
from .compiler import Action, Program, query_call
from .errors import DecodeError, NotFound, ResetAborted, SchemaError, UniqueViolation
from .fields import ModelSpec
from .plan import Arg, Batch, Operation, ScriptCall

if TYPE_CHECKING:
    from .model import Model

OBJECTS_PER_CALL: Final = 100
"""Objects per save script call: ~1.5 ms of server time for small objects, so other clients
never wait long behind a bulk save or a reset."""
CALLS_PER_BATCH: Final = 32
"""Script calls pipelined in one batch (one network round trip)."""
CLEANUP_BUDGET: Final = 500
"""Keys deleted per cleanup call after a reset (~1 ms of server time)."""
STALE_STAGING_MS: Final = 10 * 60 * 1000
"""A reset whose staging saw no write for this long is considered dead and is cleaned up."""


# -- encoding ------------------------------------------------------------------------------


def encode_object(spec: ModelSpec, obj: Model, pack: Callable[[Any], bytes]) -> list[Arg]:
    """The save-script arguments of one object: pk, stored values, index members."""
    if type(obj) is not spec.model:  # a subclass has its own keys (and more fields): refuse it
        raise TypeError(f"expected a {spec.model.__qualname__}, got {type(obj).__qualname__}")
    values = obj.__dict__
    pk = values["pk"]
    args: list[Arg] = [b"" if pk is None else pk]
    members: list[Arg] = []
    try:
        for name in spec.indexed_names:
            stored, member = encode_indexed(values[name], pack)
            args.append(stored)
            members.append(member)
        for name in spec.plain_names:
            args.append(pack(values[name]))
    except TypeError:
        for name in spec.stored:  # find the culprit, for an error naming field and type
            try:
                encode(values[name])
            except SchemaError as exc:
                raise SchemaError(f"{spec.model.__qualname__}.{name}: {exc}") from None
        raise
    args += members
    return args


def encode_objects(spec: ModelSpec, objects: Sequence[Model]) -> list[list[Arg]]:
    """Encode every object before anything is sent: a bad value raises, nothing is written."""
    pack = packer()
    return [encode_object(spec, obj, pack) for obj in objects]


def _save_call(spec: ModelSpec, gen: int | None, rows: Sequence[list[Arg]]) -> ScriptCall:
    head: list[Arg] = [b"" if gen is None else gen, len(spec.indexed), len(spec.stored), *spec.stored]
    for row in rows:
        head += row
    return ScriptCall("save", (spec.keys.meta,), tuple(head), writes=True)


def _save_batches(spec: ModelSpec, gen: int | None, rows: list[list[Arg]]) -> list[list[ScriptCall]]:
    per_call = OBJECTS_PER_CALL
    calls = [_save_call(spec, gen, rows[i : i + per_call]) for i in range(0, len(rows), per_call)]
    return [calls[i : i + CALLS_PER_BATCH] for i in range(0, len(calls), CALLS_PER_BATCH)]


def _assign_pks(objects: Sequence[Model], pks: list[int]) -> None:
    for obj, pk in zip(objects, pks, strict=True):
        if obj.__dict__["pk"] != pk:
            obj.__dict__["pk"] = pk
            obj.__pydantic_fields_set__.add("pk")


# -- decoding ------------------------------------------------------------------------------


def decode_object(spec: ModelSpec, gen: int, pk: int, row: bytes) -> Any:
    """Build a model instance from a row of its stored values (see `codec.row_header`)."""
    count = len(spec.stored)
    try:
        values = decode_row(row, count)
    except Exception as exc:
        raise _corrupt_row(spec, gen, pk, row) from exc
    data: dict[str, Any] = dict(zip(spec.stored, values, strict=True))
    data["pk"] = pk
    if MISSING in values:
        data = {name: value for name, value in data.items() if value is not MISSING}
    try:
        return spec.validator.validate_python(data, by_name=True)
    except ValidationError as exc:
        key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
        raise DecodeError(
            f"{key}: stored data does not validate as {spec.model.__qualname__}: {exc}", key=key
        ) from exc


def _corrupt_row(spec: ModelSpec, gen: int, pk: int, row: bytes) -> DecodeError:
    key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
    for name, raw in zip(spec.stored, split_row(row, len(spec.stored)), strict=False):
        try:
            decode(raw)
        except Exception as exc:
            return DecodeError(
                f"{key}: field {name!r} holds bytes that are not a typedredis value "
                f"({type(exc).__name__}: {exc})",
                key=key,
                field=name,
            )
    return DecodeError(f"{key}: the stored fields do not decode as one value each", key=key)


def _decode_rows(spec: ModelSpec, reply: list[Any]) -> list[Any]:
    """Decode ``[gen, pk, row, pk, row, ...]`` into objects in ascending pk order."""
    gen = int(reply[0])
    pairs = sorted(zip(map(int, reply[1::2]), reply[2::2], strict=True))
    return [decode_object(spec, gen, pk, row) for pk, row in pairs]


# -- operations ----------------------------------------------------------------------------


def save(spec: ModelSpec, objects: Sequence[Model]) -> Operation[None]:
    """Insert or replace ``objects``; assigns ``pk`` to new ones (an instance listed twice is saved once)."""
    objects = list({id(obj): obj for obj in objects}.values())
    rows = encode_objects(spec, objects)
    pks: list[int] = []
    for batch in _save_batches(spec, None, rows):
        replies = yield batch
        for reply in replies:
            pks += reply
    _assign_pks(objects, pks)


def get(spec: ModelSpec, pks: Iterable[int]) -> Operation[list[Any]]:
    """Fetch objects by primary key: a list with None for the missing ones."""
    keys = [int(pk) for pk in pks]
    if not keys:
        return []
    args: tuple[Arg, ...] = (spec.row_header, len(spec.stored), *spec.stored, *keys)
    (reply,) = yield (ScriptCall("get", (spec.keys.meta,), args, writes=False),)
    gen = int(reply[0])
    return [
        decode_object(spec, gen, pk, reply[i + 1]) if reply[i] else None
        for pk, i in zip(keys, range(1, len(reply), 2), strict=True)
    ]


def get_one(spec: ModelSpec, pk: int) -> Operation[Any]:
    """Fetch one object; `NotFound` if it does not exist."""
    (found,) = yield from get(spec, [pk])
    if found is None:
        raise NotFound(f"no {spec.model.__qualname__} with pk={pk}")
    return found


def delete(spec: ModelSpec, pks: Iterable[int]) -> Operation[int]:
    """Delete objects by primary key; returns how many existed."""
    keys = [int(pk) for pk in pks]
    if not keys:
        return 0
    indexed = [f.name for f in spec.indexed]
    args: tuple[Arg, ...] = (len(indexed), *indexed, *keys)
    (deleted,) = yield (ScriptCall("delete", (spec.keys.meta,), args, writes=True),)
    return int(deleted)


_EMPTY_RESULTS: Final[dict[str, Any]] = {
    "count": 0,
    "exists": False,
    "pks": [],
    "fetch": [],
    "first": None,
    "delete": 0,
}


def query(spec: ModelSpec, program: Program, action: Action) -> Operation[Any]:
    """Run a compiled query and return what ``action`` asks for."""
    if program.result is None:
        return _EMPTY_RESULTS[action]
    if action in ("fetch", "first"):
        fields: tuple[str, ...] = spec.stored
    elif action == "delete":
        fields = tuple(f.name for f in spec.indexed)
    else:
        fields = ()
    header = spec.row_header if action in ("fetch", "first") else b""
    (reply,) = yield (query_call(spec.keys.meta, program, action, fields, header),)
    if action == "count":
        return int(reply)
    if action == "exists":
        return bool(reply)
    if action == "delete":
        return int(reply)
    if action == "pks":
        return sorted(map(int, reply))
    rows = _decode_rows(spec, reply)
    if action == "first":
        return rows[0] if rows else None
    return rows


def reset(spec: ModelSpec, objects: Sequence[Model]) -> Operation[None]:
    """Replace the model's whole dataset by ``objects``, atomically for every reader.

    Stages the objects in a fresh generation (invisible to readers), switches the current
    generation in one O(1) script, then deletes the old generation in bounded steps.
    """
    rows = encode_objects(spec, objects)
    seen: set[Arg] = set()
    for row in rows:
        if row[0] != b"":
            if row[0] in seen:
                raise UniqueViolation(
                    f"reset: two {spec.model.__qualname__} objects have pk={row[0]!r}",
                    field="pk",
                    value=row[0],
                )
            seen.add(row[0])
    meta = (spec.keys.meta,)
    (gen,) = yield (ScriptCall("reset_begin", meta, (STALE_STAGING_MS,), writes=True),)
    pks: list[int] = []
    try:
        for batch in _save_batches(spec, int(gen), rows):
            replies = yield batch
            for reply in replies:
                pks += reply
        yield (ScriptCall("reset_switch", meta, (gen,), writes=True),)
    except GeneratorExit:
        raise
    except BaseException as exc:
        yield from _abort(meta, gen)
        if "no longer being staged" in str(exc):
            raise ResetAborted(
                f"reset of {spec.model.__qualname__} aborted: its staged generation {gen} was reclaimed "
                f"(no progress for {STALE_STAGING_MS // 1000} s); the old dataset is still in place"
            ) from exc
        raise
    _assign_pks(objects, pks)
    yield from collect_retired(spec)


def _abort(meta: tuple[bytes], gen: int) -> Generator[Batch, list[Any], None]:
    try:
        yield (ScriptCall("reset_abort", meta, (gen,), writes=True),)
        while (yield (ScriptCall("reset_cleanup", meta, (CLEANUP_BUDGET,), writes=True),))[0]:
            pass
    except Exception:  # the caller sees the original error; the next reset cleans up
        pass


def collect_retired(spec: ModelSpec) -> Operation[None]:
    """Delete what earlier resets retired, a bounded number of keys per call."""
    call = ScriptCall("reset_cleanup", (spec.keys.meta,), (CLEANUP_BUDGET,), writes=True)
    while (yield (call,))[0]:
        pass
