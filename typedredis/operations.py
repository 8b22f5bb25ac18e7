"""Every Redis interaction of typedredis as a sans-IO operation (see `typedredis.plan`).

An operation validates and encodes everything it will send *before* its first yield, so bad
input raises before any byte reaches Redis. Executors drive operations; they never decide
what to send.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Final

from .codec import decode, encode, encode_indexed, packer
from .errors import AlreadyExists, IndexNotReady, NotFound, ResetAborted, SchemaError, UniqueViolation
from .fields import ModelSpec, short_repr, unencodable
from .plan import Arg, Batch, Operation, Pull, ScriptCall
from .rows import STORED

if TYPE_CHECKING:
    from .model import Model

OBJECTS_PER_CALL: Final = 100
"""Objects per save script call: ~1.5 ms of server time for small objects, so other clients
never wait long behind a bulk save or a reset."""
CALLS_PER_BATCH: Final = 4
"""Save script calls pipelined in one batch (one network round trip). Redis runs the commands
one client pipelined back to back, serving no other client between them, so another client
may wait for a whole batch: 4 calls of `OBJECTS_PER_CALL` objects (~6-12 ms) at most. With
32, a `PING` waited up to 44-69 ms during a `save_all` or a `reset` of 100 000 small objects,
for no measurable gain in their speed (see docs/explanation/query-strategies.md)."""
CLEANUP_BUDGET: Final = 500
"""Keys deleted per cleanup call after a reset (~1 ms of server time)."""
STALE_STAGING_MS: Final = 10 * 60 * 1000
"""A reset whose staging saw no write for this long is considered dead and is cleaned up."""
PRECHECK_PER_CALL: Final = 1000
"""Primary keys or unique values looked up per call of the read-only pre-check of `save_all`."""
UNIQUE_REPLY: Final = b"!unique"
EXISTS_REPLY: Final = b"!exists"


# -- encoding ------------------------------------------------------------------------------


def encode_object(spec: ModelSpec[Any], obj: Model, pack: Callable[[Any], bytes]) -> list[Arg]:
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
    except (TypeError, UnicodeEncodeError):
        for name in spec.stored:  # find the culprit, for an error naming field and type
            try:
                encode(values[name])
            except SchemaError as exc:
                raise SchemaError(f"{spec.model.__qualname__}.{name}: {exc}") from None
            except UnicodeEncodeError:
                raise unencodable(spec.model.__qualname__, name, values[name]) from None
        raise
    args += members
    for field in spec.sorted:
        assert field.sort_key_of is not None
        try:
            args.append(field.sort_key_of(values[field.name]))
        except SchemaError as exc:
            raise SchemaError(f"{spec.model.__qualname__}.{field.name}: {exc}") from None
        except UnicodeEncodeError:
            raise unencodable(spec.model.__qualname__, field.name, values[field.name]) from None
    return args


def encode_objects(spec: ModelSpec[Any], objects: Sequence[Model]) -> list[list[Arg]]:
    """Encode every object before anything is sent: a bad value raises, nothing is written."""
    pack = packer()
    return [encode_object(spec, obj, pack) for obj in objects]


def _save_call(spec: ModelSpec[Any], gen: int | None, rows: Sequence[list[Arg]], mode: bytes) -> ScriptCall:
    """A save script call (see save.lua for ``mode``: b"i" inserts, b"" upserts, b"m" migrates)."""
    args: list[Arg] = [b"" if gen is None else gen, mode]
    for row in rows:
        args += row
    return ScriptCall("save", (spec.keys.meta,), tuple(args), writes=True, head=spec.save_schema)


def _save_batches(
    spec: ModelSpec[Any], gen: int | None, rows: list[list[Arg]], mode: bytes
) -> list[list[ScriptCall]]:
    per_call = OBJECTS_PER_CALL
    if 0 < len(rows) <= per_call:  # one call (one object: the common case)
        return [[_save_call(spec, gen, rows, mode)]]
    calls = [_save_call(spec, gen, rows[i : i + per_call], mode) for i in range(0, len(rows), per_call)]
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


def _unique_keys(spec: ModelSpec[Any], row: list[Arg]) -> list[_Key]:
    nf = len(spec.stored)
    keys = []
    for i in range(spec.unique_count):
        member = row[1 + nf + i] or row[1 + i]
        assert isinstance(member, bytes)
        if member != NIL_MEMBER:
            keys.append((spec.stored[i], member))
    return keys


def _check_unique(spec: ModelSpec[Any], rows: Sequence[list[Arg]], holders: dict[_Key, list[int]]) -> None:
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


def _violation(spec: ModelSpec[Any], field: str | bytes, member: bytes, detail: str = "") -> UniqueViolation:
    name = field.decode() if isinstance(field, bytes) else field
    value = decode(member)
    return UniqueViolation(
        f"{spec.model.__qualname__}.{name} must be unique, and {short_repr(value)} would be shared{detail}",
        field=name,
        value=value,
    )


def _is_violation(reply: Any) -> bool:
    return isinstance(reply, list) and len(reply) == 3 and reply[0] == UNIQUE_REPLY


def _already_exists(spec: ModelSpec[Any], pk: object, detail: str = "") -> AlreadyExists:
    name = spec.model.__qualname__
    return AlreadyExists(
        f"{name} pk={pk} already exists{detail}; insert() never replaces an object "
        "(save() inserts or replaces)",
        pk=int(pk) if isinstance(pk, (int, bytes, str)) else pk,
    )


def _check_saved(spec: ModelSpec[Any], reply: Any, several: bool) -> list[int]:
    """The pks a save call returned; raises what the call refused (it then wrote nothing)."""
    if isinstance(reply, list) and reply and isinstance(reply[0], bytes):
        detail = " (a concurrent writer took it; earlier calls of this list were saved)" if several else ""
        if _is_violation(reply):
            raise _violation(spec, reply[1], reply[2], detail)
        if reply[0] == EXISTS_REPLY and len(reply) == 2:
            raise _already_exists(spec, reply[1].decode(), detail)
        if reply[0] == b"!missing":
            raise NotFound(
                f"{spec.model.__qualname__} {reply[1].decode()} is not stored: save(fields=...) writes "
                f"part of a stored object{detail}"
            )
        if reply[0] == b"!building":
            index, record = reply[1].decode(), reply[2].decode()
            state = record.split(":")[0] or "missing"
            raise IndexNotReady(
                f"{spec.model.__qualname__}: save(fields=...) needs every index of the model ready, and "
                f"{index} is {state}: run typedredis reindex first, or save() the whole object{detail}",
                field=index.split(":", 1)[-1],
                state=state,
            )
        if reply[0] == b"!pks":
            raise SchemaError(
                f"{spec.model.__qualname__}: no primary key is left: new ones would go beyond 2**53 - 1, "
                "where pks stop being exact; give objects explicit pks below the largest stored one"
            )
    return reply  # type: ignore[no-any-return]  # save.lua returns the list of pks


# -- operations ----------------------------------------------------------------------------


def save(
    spec: ModelSpec[Any],
    objects: Iterable[Model],
    *,
    insert: bool = False,
    fields: Sequence[str] | None = None,
) -> Operation[None]:
    """Insert or replace ``objects`` (only insert, with ``insert``: a stored pk is refused with
    `AlreadyExists`); assigns ``pk`` to new ones (an instance listed twice is saved once).

    An object loaded from Redis (or saved) writes only the fields whose encoding changed since
    (see `_writes`); with ``fields``, only those fields, and `NotFound` if it is not stored.

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
    hows = [] if insert else _writes(spec, objects, rows, fields)
    if several and (explicit or spec.unique_count):
        yield from _precheck(spec, _claims(spec, rows, hows), explicit)
    mode = b"i" if insert else b"p" if hows else b""
    sent = [[*row, how] for row, how in zip(rows, hows, strict=True)] if hows else rows
    pks: list[int] = []
    for batch in _save_batches(spec, None, sent, mode):
        replies = yield batch
        for reply in replies:
            pks += _check_saved(spec, reply, several)
    _assign_pks(objects, pks)
    _remember(spec, objects, rows, fields)


def _remember(
    spec: ModelSpec[Any], objects: Sequence[Model], rows: list[list[Arg]], fields: Sequence[str] | None
) -> None:
    """After a save: each object remembers what is stored now, as far as it knows (with
    ``fields``, only those fields were written: the others keep what it remembered, so a
    later save still writes them if they changed; nothing, if it remembered nothing)."""
    nf = len(spec.stored)
    for obj, row in zip(objects, rows, strict=True):
        pk = obj.__dict__["pk"]
        if fields is None:
            obj.__dict__[STORED] = (pk, tuple(row[1 : 1 + nf]))
            continue
        known = obj.__dict__.get(STORED)
        if known is None or known[0] != pk:
            obj.__dict__.pop(STORED, None)
            continue
        obj.__dict__[STORED] = (
            pk,
            tuple(row[1 + i] if name in fields else known[1][i] for i, name in enumerate(spec.stored)),
        )


def _claims(spec: ModelSpec[Any], rows: list[list[Arg]], hows: list[bytes]) -> list[list[Arg]]:
    """``rows`` as the unique pre-check should see them: a unique field that an object written
    in part leaves as stored claims nothing (its member is None's, which never clashes)."""
    if not hows:
        return rows
    nf, out = len(spec.stored), []
    for row, how in zip(rows, hows, strict=True):
        if how and any(how[1 + i] == 48 for i in range(spec.unique_count)):  # b"0": not written
            row = list(row)
            for i in range(spec.unique_count):
                if how[1 + i] == 48:
                    row[1 + i], row[1 + nf + i] = NIL_MEMBER, b""
        out.append(row)
    return out


def _writes(
    spec: ModelSpec[Any], objects: Sequence[Model], rows: list[list[Arg]], fields: Sequence[str] | None
) -> list[bytes]:
    """How the save script writes each object (save.lua, mode 'p'), or [] when every object is
    written whole: b"" whole; b"c" + one b"0"/b"1" per field: only the fields whose encoding
    differs from what the object was loaded (or last saved) with; b"u" + the same: only
    ``fields``. An object without a pk, or listed twice under one pk, is written whole."""
    nf = len(spec.stored)
    if fields is not None:
        unknown = [name for name in fields if name not in spec.stored]
        if unknown:
            raise SchemaError(
                f"{spec.model.__qualname__}.save(fields=...): {unknown[0]!r} is not a stored field "
                f"(stored fields: {', '.join(spec.stored)}; pk cannot be written in part)"
            )
        mask = b"u" + bytes(49 if name in fields else 48 for name in spec.stored)
        for obj in objects:
            if obj.__dict__["pk"] is None:
                raise NotFound(
                    f"{spec.model.__qualname__}.save(fields=...) writes part of a stored object, "
                    "and this one has no pk: save() it whole"
                )
        return [mask] * len(rows)
    repeated = Counter(row[0] for row in rows) if len(rows) > 1 else None
    hows, partial = [], False
    for obj, row in zip(objects, rows, strict=True):
        known = obj.__dict__.get(STORED)
        if known is None or known[0] != obj.__dict__["pk"] or (repeated and repeated[row[0]] > 1):
            hows.append(b"")
            continue
        changed = [48 + (now != before) for now, before in zip(row[1 : 1 + nf], known[1], strict=True)]
        hows.append(b"c" + bytes(changed))
        partial = True
    return hows if partial else []


def _precheck(spec: ModelSpec[Any], rows: list[list[Arg]], explicit: list[Arg]) -> Operation[None]:
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


def delete_one(spec: ModelSpec[Any], pk: int | None) -> Operation[bool]:
    """Delete one object by pk; False when it was not stored (or has no pk yet)."""
    if pk is None:
        return False
    return bool((yield from delete(spec, [pk])))


DELETES_PER_CALL: Final = 300
"""Objects deleted per call of delete.lua (each call is atomic; the calls go
`querying.CHUNK_CALLS_PER_BATCH` per round trip)."""


def delete(spec: ModelSpec[Any], pks: Iterable[int]) -> Operation[int]:
    """Delete objects by primary key, `DELETES_PER_CALL` per call; returns how many existed."""
    from .querying import CHUNK_CALLS_PER_BATCH, check_pk

    keys = [check_pk(spec, pk) for pk in pks]
    calls = [
        ScriptCall("delete", (spec.keys.meta,), (*spec.schema, *keys[i : i + DELETES_PER_CALL]), writes=True)
        for i in range(0, len(keys), DELETES_PER_CALL)
    ]
    deleted = 0
    for start in range(0, len(calls), CHUNK_CALLS_PER_BATCH):  # (why: querying)
        replies = yield calls[start : start + CHUNK_CALLS_PER_BATCH]
        deleted += sum(int(n) for n in replies)
    return deleted


RESET_CHUNK: Final = 3200
"""Objects a `reset` takes from its iterable at a time: the most it holds in memory (staged
in batches of `CALLS_PER_BATCH` calls)."""


def reset(spec: ModelSpec[Any]) -> Operation[None]:
    """Replace the model's whole dataset by the objects the executor's source yields (`Pull`),
    atomically for every reader.

    Stages the objects in a fresh generation (invisible to readers), `RESET_CHUNK` at a time
    (a generator of a million objects is never held whole, sync or async), switches the
    current generation in one O(1) script, then deletes the old generation in bounded steps.
    Every object gets its pk as soon as its chunk is staged. A failure before the switch
    (the source's own error included) retires the staged generation and re-raises; after the
    switch the reset has succeeded, and a failure of the clean-up is left to the next reset.
    """
    chunk, rows, more = yield from _next_chunk(spec)  # the first chunk is encoded before any write
    meta = (spec.keys.meta,)
    (gen,) = yield (ScriptCall("reset_begin", meta, (STALE_STAGING_MS,), writes=True),)
    failure: BaseException | None = None
    try:
        while rows:
            replies = []
            for batch in _save_batches(spec, int(gen), rows, b"i"):
                replies += yield batch
            try:
                pks = [pk for reply in replies for pk in _check_saved(spec, reply, several=False)]
            except AlreadyExists as exc:
                raise UniqueViolation(
                    f"reset: two {spec.model.__qualname__} objects have pk={exc.pk}", field="pk", value=exc.pk
                ) from None
            _assign_pks(chunk, pks)
            if not more:
                break
            chunk, rows, more = yield from _next_chunk(spec)
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


def _next_chunk(
    spec: ModelSpec[Any],
) -> Generator[Pull, list[Any], tuple[list[Model], list[list[Arg]], bool]]:
    """The next chunk of the source (an instance listed twice in it is staged once), its encoded
    rows, and whether the source may hold more."""
    pulled = yield Pull(RESET_CHUNK)
    chunk = list({id(obj): obj for obj in pulled}.values())
    return chunk, encode_objects(spec, chunk), len(pulled) == RESET_CHUNK


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
