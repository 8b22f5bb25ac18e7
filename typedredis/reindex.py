"""Online reindex: build a model's new or changed indexes while the application runs.

A reindex job (scripts ``reindex_*.lua``) lives in Redis, in the schema records of the model's
current generation, so that any process can resume it after a crash or a restart:

1. ``reindex_begin`` plans the job from the records and the caller's code: every index the
   code declares that is not ready with the code's encoding, plus compound indexes over a
   sorted field that is rebuilt, are marked *building* (queries refuse them); dropped indexes
   that the code no longer declares are to be removed. The same plan already running is
   resumed where it stopped.
2. *clear*: the keys of those indexes are deleted, a bounded number per call, by a
   checkpointed range over the generation's registry of index keys.
3. *fill*: the objects are read in pk order after a checkpoint (``reindex_read``), decoded and
   encoded here exactly as a save would, and ``reindex_fill`` adds their entries, only for
   objects whose stored bytes are still the ones read: a concurrent save is never overwritten
   with older data (writers maintain building indexes themselves).
4. ``reindex_finish`` marks the indexes ready, unless a writer that does not maintain one of
   them changed objects meanwhile (an older release still running): then `ReindexAborted`.

Each call is bounded (`FILL_PER_CALL` objects, `CLEAR_PER_CALL` keys), so the server never
stalls for long. A reset that switches generations meanwhile makes the job start over on the
new generation (usually with nothing to do: a reset builds every index of its code).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from .codec import packer
from .errors import ReindexAborted
from .fields import ModelSpec
from .migrate import migrate as migrate_objects
from .operations import _violation, encode_object
from .plan import Arg, Operation, ScriptCall, single
from .rows import decode_object, rows

FILL_PER_CALL: Final = 50
"""Objects per fill call (each object: two small reads, a write of its hidden fields, its
entries): about 1 ms of server time for small objects with three indexes. 100 per call
measured 2-3 ms a call, up to 7.4 ms, at 1 000 000 objects (benchmarks/reindex_bench.py)."""
CLEAR_PER_CALL: Final = 200
"""Index keys deleted per clear call (UNLINK frees large ones in the background)."""

Progress = Callable[[int, int], None]
"""Called after each fill batch with (objects done, objects in the model)."""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """What a reindex did."""

    built: tuple[str, ...]
    """The indexes it built, by record name: ``e:<field>`` (equality), ``s:<field>`` (sorted),
    or a compound index's name. Empty when every index was ready."""
    removed: tuple[str, ...]
    """The dropped indexes whose keys it removed (the code no longer declares them)."""
    indexed: int
    """Objects whose entries it added."""
    skipped: int
    """Objects that a writer changed or deleted between read and write (the writer indexed
    them, or stored them in its own form)."""
    migrated: int = 0
    """With ``migrate``: objects rewritten in the form the code writes (values a migration
    hook converts, fields the code removed or added with a default)."""


class _Restart(Exception):
    """Plan again: a reset switched the job's generation, or the job ended under this caller
    (another process running the same job finished it)."""


def reindex(
    spec: ModelSpec[Any], progress: Progress | None = None, migrate: bool = False
) -> Operation[ReindexReport]:
    """Build the indexes of ``spec`` that are not ready in the current generation; then, with
    ``migrate``, rewrite every object that is not stored in the form ``spec`` writes (see
    migrate.py; ``progress`` starts over for that pass)."""
    report = yield from _build(spec, progress)
    if not migrate:
        return report
    migrated, skipped = yield from migrate_objects(spec, progress)
    return replace(report, migrated=migrated, skipped=report.skipped + skipped)


def _build(spec: ModelSpec[Any], progress: Progress | None) -> Operation[ReindexReport]:
    mode = b""
    indexed = skipped = 0
    built: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    while True:
        token = secrets.token_hex(8)
        begin = ScriptCall("reindex_begin", (spec.keys.meta,), (token, mode, *spec.schema), writes=True)
        reply = yield from single(begin)
        if reply[0] == b"!other":
            raise _replaced(spec)
        if reply[2] == b"done":
            return ReindexReport(built, removed, indexed, skipped)
        gen, job, phase, at, total = int(reply[0]), reply[1], reply[2], reply[3], int(reply[4])
        names = [name.decode() for name in reply[5:]]
        cut = names.index("")
        built, removed = tuple(names[:cut]), tuple(names[cut + 1 :])
        counts = [0, 0]
        try:
            done = yield from _clear(spec, gen, job, phase, at)
            yield from _fill(spec, gen, job, done, total, progress, counts)
        except _Restart as restart:
            # (after a reset: plan the new generation afresh; after the job ended under this
            # caller: join whatever runs now, or learn that it is done)
            indexed, skipped = indexed + counts[0], skipped + counts[1]
            mode = b"join" if restart.args == ("job",) else b""
            if restart.args == ("gen",):  # what was done went with the old generation
                built, removed, indexed, skipped = (), (), 0, 0
            continue
        return ReindexReport(built, removed, indexed + counts[0], skipped + counts[1])


def _replaced(spec: ModelSpec[Any]) -> ReindexAborted:
    return ReindexAborted(
        f"{spec.model.__qualname__}: another reindex, planned by code with other indexes, "
        "replaced this one; run reindex again from the code that is deployed"
    )


def _job_reply(spec: ModelSpec[Any], reply: Any) -> None:
    """Raise for a job that ended under the caller (see the scripts' '!' replies)."""
    if not isinstance(reply, list) or not reply or not isinstance(reply[0], bytes):
        return
    if reply[0] == b"!gen":
        raise _Restart("gen")
    if reply[0] == b"!job":
        raise _Restart("job")


def _clear(spec: ModelSpec[Any], gen: int, token: bytes, phase: bytes, at: bytes) -> Operation[bytes]:
    """Delete the keys of the indexes the job rebuilds or removes; the fill checkpoint."""
    while phase == b"clear":
        call = ScriptCall("reindex_clear", (spec.keys.meta,), (gen, token, CLEAR_PER_CALL), writes=True)
        reply = yield from single(call)
        _job_reply(spec, reply)
        phase, at = reply[0], reply[1]
    return at


def _fill(
    spec: ModelSpec[Any],
    gen: int,
    token: bytes,
    at: bytes,
    total: int,
    progress: Progress | None,
    counts: list[int],
) -> Operation[None]:
    """Index every object after checkpoint ``at``, counting them in ``counts`` (indexed,
    skipped); then finish the job."""
    meta = (spec.keys.meta,)
    pack = packer()
    read = _read_call(spec, gen, token, at)
    replies = yield (read,)
    while True:
        _job_reply(spec, replies[-1])
        last, blob = replies[-1]
        if not last:
            finish = ScriptCall("reindex_finish", meta, (gen, token, at, *spec.schema), writes=True)
            reply = yield from single(finish)
            _job_reply(spec, reply)
            if reply[0] == b"!moved":
                at = _moved(reply)
                replies = yield (_read_call(spec, gen, token, at),)
                continue
            if reply[0] == b"!conflict":
                raise _conflict(spec, reply[1:])
            return
        args: list[Arg] = [gen, token, at, last, spec.unique_count, *spec.schema]
        for pk, raw in rows(blob, len(spec.stored)):
            args += _object_args(spec, gen, pk, raw, pack)
        fill = ScriptCall("reindex_fill", meta, tuple(args), writes=True)
        # the next batch is read in the same round trip (a fill that fails leaves it unused)
        replies = yield (fill, _read_call(spec, gen, token, last))
        reply = replies[0]
        _job_reply(spec, reply)
        if reply[0] == b"!unique":
            pks = ", ".join(pk.decode() for pk in reply[3:])
            detail = (
                f" by the objects with pks {pks}; the index stays building (queries refuse it): "
                "change or delete one of them, then run reindex again"
            )
            raise _violation(spec, reply[1], reply[2], detail)
        if reply[0] == b"!moved":
            at = _moved(reply)
            replies = yield (_read_call(spec, gen, token, at),)
            continue
        counts[0] += int(reply[1])
        counts[1] += int(reply[2])
        at = last
        if progress is not None:
            progress(counts[0] + counts[1], total)


def _moved(reply: list[Any]) -> bytes:
    """Another process runs this job and moved its checkpoint: go on from there."""
    if reply[1] != b"fill":
        raise _Restart("job")
    checkpoint: bytes = reply[2]
    return checkpoint


def _read_call(spec: ModelSpec[Any], gen: int, token: bytes, at: bytes) -> ScriptCall:
    args: tuple[Arg, ...] = (gen, token, at, FILL_PER_CALL, len(spec.stored), *spec.stored)
    return ScriptCall("reindex_read", (spec.keys.meta,), args, writes=False)


def _object_args(
    spec: ModelSpec[Any], gen: int, pk: int, raw: list[Any], pack: Callable[[Any], bytes]
) -> list[Arg]:
    """pk, the stored bytes read of the indexed and sorted fields, members, sort keys."""
    obj = decode_object(spec, gen, pk, raw)  # a DecodeError names the key and the field
    encoded = encode_object(spec, obj, pack)
    ni, ns = len(spec.indexed), len(spec.sorted)
    stored = dict(zip(spec.stored, raw, strict=True))
    args: list[Arg] = [pk]
    args += [stored[f.name] or b"" for f in spec.indexed]
    args += [stored[f.name] or b"" for f in spec.sorted]
    # members: encode_object sends b"" where the member equals its own encoding of the value
    nf = len(spec.stored)
    args += [encoded[1 + nf + i] or encoded[1 + i] for i in range(ni)]
    args += encoded[1 + nf + ni : 1 + nf + ni + ns]
    return args


def _conflict(spec: ModelSpec[Any], pairs: list[bytes]) -> ReindexAborted:
    found = ", ".join(
        f"{pairs[i].decode()} is {pairs[i + 1].decode() or 'not recorded'}" for i in range(0, len(pairs), 2)
    )
    return ReindexAborted(
        f"{spec.model.__qualname__}: a process whose code does not maintain the indexes this "
        f"reindex built changed objects meanwhile ({found}), so they may be stale and stay "
        "refused; run reindex again once every process runs the code that declares them"
    )
