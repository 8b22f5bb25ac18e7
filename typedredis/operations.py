"""Every Redis interaction of typedredis as a sans-IO operation (see `typedredis.plan`).

An operation validates and encodes everything it will send *before* its first yield, so bad
input raises before any byte reaches Redis. Executors drive operations; they never decide
what to send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import suppress
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from .codec import MISSING, decode, decode_row, encode, encode_indexed, packer, row_header, split_row
from .compiler import WHOLE, Action, Page, Program, query_call
from .errors import AlreadyExists, DecodeError, NotFound, ResetAborted, SchemaError, UniqueViolation
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
PRECHECK_PER_CALL: Final = 1000
"""Primary keys or unique values looked up per call of the read-only pre-check of `save_all`."""
UNIQUE_REPLY: Final = b"!unique"
EXISTS_REPLY: Final = b"!exists"


# -- encoding ------------------------------------------------------------------------------


def encode_object(spec: ModelSpec, obj: Model, pack: Callable[[Any], bytes]) -> list[Arg]:
    """The save-script arguments of one object: pk, stored values, index members, sort keys."""
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
    for field in spec.sorted:
        assert field.sort_key_of is not None
        try:
            args.append(field.sort_key_of(values[field.name]))
        except SchemaError as exc:
            raise SchemaError(f"{spec.model.__qualname__}.{field.name}: {exc}") from None
    return args


def encode_objects(spec: ModelSpec, objects: Sequence[Model]) -> list[list[Arg]]:
    """Encode every object before anything is sent: a bad value raises, nothing is written."""
    pack = packer()
    return [encode_object(spec, obj, pack) for obj in objects]


def _save_call(spec: ModelSpec, gen: int | None, rows: Sequence[list[Arg]], insert: bool) -> ScriptCall:
    head: list[Arg] = [
        b"" if gen is None else gen,
        b"i" if insert else b"",
        len(spec.indexed),
        spec.unique_count,
        len(spec.sorted),
        len(spec.stored),
        *spec.stored,
        *spec.sorted_names,
    ]
    for row in rows:
        head += row
    return ScriptCall("save", (spec.keys.meta,), tuple(head), writes=True)


def _save_batches(
    spec: ModelSpec, gen: int | None, rows: list[list[Arg]], insert: bool = False
) -> list[list[ScriptCall]]:
    per_call = OBJECTS_PER_CALL
    calls = [_save_call(spec, gen, rows[i : i + per_call], insert) for i in range(0, len(rows), per_call)]
    return [calls[i : i + CALLS_PER_BATCH] for i in range(0, len(calls), CALLS_PER_BATCH)]


def _assign_pks(objects: Sequence[Model], pks: list[int]) -> None:
    for obj, pk in zip(objects, pks, strict=True):
        if obj.__dict__["pk"] != pk:
            obj.__dict__["pk"] = pk
            obj.__pydantic_fields_set__.add("pk")


# -- unique fields -------------------------------------------------------------------------

_Key = tuple[str, bytes]
"""(unique field, index member)"""


NIL_MEMBER: Final = b"\xc0"
"""The index member of None: exempt from uniqueness, like SQL's NULL."""


def _unique_keys(spec: ModelSpec, row: list[Arg]) -> list[_Key]:
    nf = len(spec.stored)
    keys = []
    for i in range(spec.unique_count):
        member = row[1 + nf + i] or row[1 + i]
        assert isinstance(member, bytes)
        if member != NIL_MEMBER:
            keys.append((spec.stored[i], member))
    return keys


def _check_unique(spec: ModelSpec, rows: Sequence[list[Arg]], holders: dict[_Key, list[int]]) -> None:
    """Raise `UniqueViolation` if saving ``rows`` would make two objects share a unique value.

    Simulates what the save script decides, call by call: within one call only the call's
    final state counts (two objects may swap values), calls apply in order. ``holders`` are
    the objects holding each claimed value now (empty for a fresh dataset).
    """
    state: dict[_Key, set[object]] = {key: set(pks) for key, pks in holders.items()}
    held: dict[tuple[str, object], bytes] = {}
    for (field, member), pks in holders.items():
        for pk in pks:
            held[(field, pk)] = member
    for start in range(0, len(rows), OBJECTS_PER_CALL):
        claimed: list[_Key] = []
        for n, row in enumerate(rows[start : start + OBJECTS_PER_CALL], start):
            who: object = row[0] if row[0] != b"" else ("new", n)
            for field, member in _unique_keys(spec, row):
                old = held.get((field, who))
                if old is not None and old != member:
                    state[(field, old)].discard(who)
                state.setdefault((field, member), set()).add(who)
                held[(field, who)] = member
                claimed.append((field, member))
        for key in claimed:
            if len(state[key]) > 1:
                raise _violation(spec, key[0], key[1])


def _violation(spec: ModelSpec, field: str | bytes, member: bytes, detail: str = "") -> UniqueViolation:
    name = field.decode() if isinstance(field, bytes) else field
    value = decode(member)
    return UniqueViolation(
        f"{spec.model.__qualname__}.{name} must be unique, and {value!r} would be shared{detail}",
        field=name,
        value=value,
    )


def _is_violation(reply: Any) -> bool:
    return isinstance(reply, list) and len(reply) == 3 and reply[0] == UNIQUE_REPLY


def _already_exists(spec: ModelSpec, pk: object, detail: str = "") -> AlreadyExists:
    name = spec.model.__qualname__
    return AlreadyExists(
        f"{name} pk={pk} already exists{detail}; insert() never replaces an object "
        "(save() inserts or replaces)",
        pk=int(pk) if isinstance(pk, (int, bytes, str)) else pk,
    )


def _check_saved(spec: ModelSpec, reply: Any, several: bool) -> list[int]:
    """The pks a save call returned; raises what the call refused (it then wrote nothing)."""
    if isinstance(reply, list) and reply and isinstance(reply[0], bytes):
        detail = " (a concurrent writer took it; earlier calls of this list were saved)" if several else ""
        if _is_violation(reply):
            raise _violation(spec, reply[1], reply[2], detail)
        if reply[0] == EXISTS_REPLY and len(reply) == 2:
            raise _already_exists(spec, reply[1].decode(), detail)
    return reply  # type: ignore[no-any-return]


# -- decoding ------------------------------------------------------------------------------


def decode_object(spec: ModelSpec, gen: int, pk: int, row: bytes) -> Any:
    """Build a model instance from a row of its stored values (see `codec.row_header`)."""
    count = len(spec.stored)
    try:
        values = decode_row(row, count)
    except Exception as exc:
        raise _corrupt_row(spec, gen, pk, row, spec.stored) from exc
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


def decode_projection(
    spec: ModelSpec, gen: int, pk: int, row: bytes, fields: tuple[str, ...]
) -> tuple[Any, ...]:
    """Validate the values of ``fields`` from a row into a tuple (absent fields get their default)."""
    try:
        values = decode_row(row, len(fields))
    except Exception as exc:
        raise _corrupt_row(spec, gen, pk, row, fields) from exc
    out = []
    for name, value in zip(fields, values, strict=True):
        try:
            if value is MISSING:
                out.append(spec.model.model_fields[name].get_default(call_default_factory=True))
            else:
                out.append(spec.by_name[name].validate(value))
        except ValidationError as exc:
            key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
            raise DecodeError(f"{key}: field {name!r} does not validate: {exc}", key=key, field=name) from exc
    return tuple(out)


def _corrupt_row(spec: ModelSpec, gen: int, pk: int, row: bytes, fields: tuple[str, ...]) -> DecodeError:
    key = spec.keys.object(gen, pk).decode(errors="backslashreplace")
    for name, raw in zip(fields, split_row(row, len(fields)), strict=False):
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


# -- operations ----------------------------------------------------------------------------


def save(spec: ModelSpec, objects: Iterable[Model], *, insert: bool = False) -> Operation[None]:
    """Insert or replace ``objects`` (only insert, with ``insert``: a stored pk is refused with
    `AlreadyExists`); assigns ``pk`` to new ones (an instance listed twice is saved once).

    A list that needs several script calls is checked as a whole first when it has unique
    fields or inserts (read-only, simulating the calls in order), so that a refusal writes
    nothing; one call is atomic anyway. A concurrent writer can still take a value or a pk
    between the check and the writes.
    """
    objects = list({id(obj): obj for obj in objects}.values())
    rows = encode_objects(spec, objects)
    several = len(rows) > OBJECTS_PER_CALL
    explicit = [row[0] for row in rows if row[0] != b""] if insert else []
    if len(set(explicit)) < len(explicit):
        repeated = next(pk for pk, n in Counter(explicit).items() if n > 1)
        raise _already_exists(spec, repeated, " (it is listed twice)")
    if several and (explicit or spec.unique_count):
        yield from _precheck(spec, rows, explicit)
    pks: list[int] = []
    for batch in _save_batches(spec, None, rows, insert):
        replies = yield batch
        for reply in replies:
            pks += _check_saved(spec, reply, several)
    _assign_pks(objects, pks)


def _precheck(spec: ModelSpec, rows: list[list[Arg]], explicit: list[Arg]) -> Operation[None]:
    """Refuse, before any write, a multi-call save that a script call would refuse: one that
    inserts a stored pk (of ``explicit``), or shares a value of a unique field."""
    keys = list(dict.fromkeys(key for row in rows for key in _unique_keys(spec, row)))
    per = PRECHECK_PER_CALL
    calls = [
        ScriptCall("precheck", (spec.keys.meta,), (len(chunk), *chunk), writes=False)
        for chunk in (explicit[i : i + per] for i in range(0, len(explicit), per))
    ]
    calls += [
        ScriptCall(
            "precheck",
            (spec.keys.meta,),
            (0, *(arg for field, member in keys[i : i + per] for arg in (field, member))),
            writes=False,
        )
        for i in range(0, len(keys), per)
    ]
    if not calls:
        return
    replies = yield calls
    flags = [flag for reply in replies for flag in reply[0]]  # calls of unique values have none
    for pk, flag in zip(explicit, flags, strict=True):
        if flag:
            raise _already_exists(spec, pk)
    found = [[int(pk) for pk in pks] for reply in replies for pks in reply[1:]]
    _check_unique(spec, rows, dict(zip(keys, found, strict=True)))


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


def project(spec: ModelSpec, pks: Sequence[int], fields: tuple[str, ...]) -> Operation[list[tuple[Any, ...]]]:
    """Fetch some fields of objects by primary key, as tuples; missing objects are left out."""
    if not pks:
        return []
    args: tuple[Arg, ...] = (row_header(len(fields)), len(fields), *fields, *pks)
    (reply,) = yield (ScriptCall("get", (spec.keys.meta,), args, writes=False),)
    gen = int(reply[0])
    return [
        decode_projection(spec, gen, pk, reply[i + 1], fields)
        for pk, i in zip(pks, range(1, len(reply), 2), strict=True)
        if reply[i]
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
    args: tuple[Arg, ...] = (
        len(spec.indexed),
        *spec.indexed_names,
        len(spec.sorted),
        *spec.sorted_names,
        *keys,
    )
    (deleted,) = yield (ScriptCall("delete", (spec.keys.meta,), args, writes=True),)
    return int(deleted)


def update_args(spec: ModelSpec, values: dict[str, Any]) -> tuple[Arg, ...]:
    """The ``update`` arguments of query.lua: validated, encoded values and their index entries."""
    args: list[Arg] = [len(values)]
    for name, value in values.items():
        field = spec.field(name)
        valid = field.validate(value)
        stored, member = encode_indexed(valid)
        flags = (
            ("e" if field.equality else "") + ("u" if field.unique else "") + ("s" if field.sorted else "")
        )
        sortkey = field.sort_key_of(valid) if field.sort_key_of is not None else b""
        args += [name, flags, stored, member, sortkey]
    return tuple(args)


def query(
    spec: ModelSpec,
    program: Program,
    action: Action,
    page: Page = WHOLE,
    only: tuple[str, ...] | None = None,
    updates: dict[str, Any] | None = None,
) -> Operation[Any]:
    """Run a compiled query and return what ``action`` asks for, on the requested page."""
    if action in ("count", "exists") and not page.whole:
        total = yield from query(spec, program, "count")
        count = max(0, total - page.offset)
        count = count if page.limit is None else min(count, page.limit)
        return count if action == "count" else count > 0
    if action == "first" and not page.whole:
        page = Page(page.order, page.descending, page.offset, 1 if page.limit is None else min(page.limit, 1))
    extra: tuple[Arg, ...] = ()
    if action == "update":
        extra = update_args(spec, updates or {})
    if program.result is None or (page.limit == 0 and action in ("pks", "fetch", "first")):
        return {"count": 0, "exists": False, "pks": [], "fetch": [], "first": None}.get(action, 0)
    if action in ("fetch", "first"):
        fields = only or spec.stored
        header: bytes = row_header(len(fields))
    elif action in ("delete", "update"):
        fields = spec.indexed_names + spec.sorted_names
        header = str(len(spec.indexed)).encode()
    else:
        fields, header = (), b""
    (reply,) = yield (query_call(spec.keys.meta, program, action, fields, header, page, extra),)
    if action in ("count", "delete"):
        return int(reply)
    if action == "exists":
        return bool(reply)
    if action == "update":
        if _is_violation(reply):
            raise _violation(spec, reply[1], reply[2])
        return int(reply)
    if action == "pks":
        pks = [int(pk) for pk in reply]
        return sorted(pks) if page.whole else pks
    gen = int(reply[0])
    pairs = list(zip(map(int, reply[1::2]), reply[2::2], strict=True))
    if page.whole:
        pairs.sort()
    if only is not None:
        rows: list[Any] = [decode_projection(spec, gen, pk, row, only) for pk, row in pairs]
    else:
        rows = [decode_object(spec, gen, pk, row) for pk, row in pairs]
    if action == "first":
        return rows[0] if rows else None
    return rows


RESET_CHUNK: Final = OBJECTS_PER_CALL * CALLS_PER_BATCH
"""Objects a `reset` takes from its iterable at a time: the most it holds in memory."""


def reset(spec: ModelSpec, objects: Iterable[Model]) -> Operation[None]:
    """Replace the model's whole dataset by ``objects``, atomically for every reader.

    Stages the objects in a fresh generation (invisible to readers), `RESET_CHUNK` at a time
    (any iterable streams: a generator of a million objects is never held whole), switches the
    current generation in one O(1) script, then deletes the old generation in bounded steps.
    Every object gets its pk as soon as its chunk is staged. A failure before the switch
    retires the staged generation and re-raises; after the switch the reset has succeeded,
    and a failure of the clean-up is left to the next reset.
    """
    stream = iter(objects)
    chunk, rows = _next_chunk(spec, stream)  # the first chunk is encoded before any write
    meta = (spec.keys.meta,)
    (gen,) = yield (ScriptCall("reset_begin", meta, (STALE_STAGING_MS,), writes=True),)
    failure: BaseException | None = None
    try:
        while rows:
            (batch,) = _save_batches(spec, int(gen), rows, insert=True)
            replies = yield batch
            try:
                pks = [pk for reply in replies for pk in _check_saved(spec, reply, several=False)]
            except AlreadyExists as exc:
                raise UniqueViolation(
                    f"reset: two {spec.model.__qualname__} objects have pk={exc.pk}", field="pk", value=exc.pk
                ) from None
            _assign_pks(chunk, pks)
            chunk, rows = _next_chunk(spec, stream)
        yield (ScriptCall("reset_switch", meta, (gen,), writes=True),)
    except GeneratorExit:
        raise
    except BaseException as exc:
        if not (yield from _switched_anyway(meta, gen)):
            failure = exc
    with suppress(Exception):  # after a switch the reset has succeeded: the next one finishes this
        yield from collect_retired(meta)
    if failure is None:
        return
    if "no longer being staged" in str(failure):
        raise ResetAborted(
            f"reset of {spec.model.__qualname__} aborted: its staged generation {gen} was "
            f"reclaimed (no progress for {STALE_STAGING_MS // 1000} s); the old dataset is still in place"
        ) from failure
    raise failure


def _next_chunk(spec: ModelSpec, stream: Iterator[Model]) -> tuple[list[Model], list[list[Arg]]]:
    chunk = list({id(obj): obj for obj in islice(stream, RESET_CHUNK)}.values())
    return chunk, encode_objects(spec, chunk)


def _switched_anyway(meta: tuple[bytes], gen: int) -> Generator[Batch, list[Any], bool]:
    """After a failure: retire the staged generation (cleanup removes it), unless it had been
    switched in after all (a switch whose reply was lost): then True."""
    try:
        (state,) = yield (ScriptCall("reset_abort", meta, (gen,), writes=True),)
    except Exception:  # the caller sees the original error; the stale-staging reclaim cleans up
        return False
    return bool(state == 2)


def collect_retired(meta: tuple[bytes]) -> Operation[None]:
    """Delete what earlier resets retired, a bounded number of keys per call."""
    call = ScriptCall("reset_cleanup", meta, (CLEANUP_BUDGET,), writes=True)
    while (yield (call,))[0]:
        pass
