"""The audit of a model's stored data against its indexes (``typedredis check``), and its
repair (``typedredis repair``).

The audit is read-only and bounded: two scripts walk, a batch per call, the objects in pk
order (``check_objects``: each has its hash, every entry its index state implies is in the
ready indexes) and the generation's registry of index keys (``check_keys``: every key exists,
every entry of a ready index is implied by its object). Here each object read is decoded and
encoded as a save would, and its index state (the members and sort keys it stores beside its
values) is compared with what its values give. No KEYS, no SCAN of the database: a key that
nothing of the model names is not found. Under concurrent writes each call sees one state,
so a problem reported is one that existed at that moment.

The repair finishes what resets left behind (an abandoned staged generation, an unfinished
clean-up), deletes the objects whose hash is gone (an evicted object), marks every index
with a problem ``dropped`` (queries refuse it at once) and runs `typedredis.reindex`, which
clears and rebuilds them while the application goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .codec import packer
from .errors import DecodeError
from .fields import ModelSpec
from .operations import STALE_STAGING_MS, collect_retired, delete, encode_object
from .plan import Operation, ScriptCall, single
from .reindex import ReindexReport, reindex
from .rows import decode_object, rows

OBJECTS_PER_CALL: Final = 50
"""Objects audited per call (reads only). 100 measured up to 12 ms a call at 1 000 000
objects with three indexes (benchmarks/reindex_bench.py)."""
ENTRIES_PER_CALL: Final = 100
"""Index entries audited per call (each: its object's index state read and rebuilt). 500
measured up to 6.6 ms a call at 20 000 objects, 250 up to 12 ms at 1 000 000."""
MAX_PROBLEMS: Final = 1000
"""Problems kept in a report (the count goes on)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: ``kind`` is ``nohash`` (a pk of the all-set without its hash),
    ``missing`` (an entry an object implies is not in its index), ``stale`` (an index entry
    that no object implies), ``gone`` (the registry names a key that does not exist),
    ``member`` / ``sortkey`` (an object's stored index state disagrees with its value),
    ``decode`` (an object that does not load), ``abandoned`` (a reset's staged generation
    whose writer stopped), ``leftover`` (a replaced generation not yet cleaned up) or
    ``moved`` (a reset replaced the dataset during the audit, which is then incomplete)."""

    kind: str
    index: str | None
    """The index's record name (``e:<field>``, ``s:<field>``, a compound's name), if any."""
    key: str
    detail: str


@dataclass(frozen=True, slots=True)
class Audit:
    """What `audit` found."""

    model: str
    generation: int
    objects: int
    """Objects audited."""
    problems: tuple[Problem, ...]
    """The first `MAX_PROBLEMS` problems."""
    count: int
    """All the problems found."""
    abandoned: tuple[int, ...] = ()
    """Generations a reset was staging when its writer stopped (no write for 10 minutes)."""
    leftover: tuple[int, ...] = ()
    """Generations replaced by a reset whose clean-up has not finished."""

    @property
    def ok(self) -> bool:
        """Whether nothing is wrong."""
        return self.count == 0

    @property
    def indexes(self) -> tuple[str, ...]:
        """The indexes with a problem."""
        return tuple(sorted({p.index for p in self.problems if p.index is not None}))

    def as_dict(self) -> dict[str, Any]:
        """The audit as JSON-ready data (``typedredis check --json``)."""
        out = {name: getattr(self, name) for name in self.__slots__ if name != "problems"}
        out["problems"] = [{name: getattr(p, name) for name in p.__slots__} for p in self.problems]
        out["ok"], out["indexes"] = self.ok, list(self.indexes)
        return out


def _text(raw: bytes) -> str:
    return raw.decode(errors="backslashreplace")


def _index_of(prefix: bytes, key: bytes) -> str | None:
    """The record name of the index that key ``key`` (of the generation ``prefix``) belongs to."""
    rest = key[len(prefix) :]
    kind, _, tail = rest.partition(b":")
    name = tail.split(b":", 1)[0].decode(errors="backslashreplace")
    return {b"i": f"e:{name}", b"s": f"s:{name}", b"c": name}.get(kind)


def audit(spec: ModelSpec[Any], progress: Callable[[int, int], None] | None = None) -> Operation[Audit]:
    """Audit the current generation of ``spec``'s model (read-only)."""
    meta = (spec.keys.meta,)
    pack = packer()
    nf, ni = len(spec.stored), len(spec.indexed)
    width = nf + 2 * ni + len(spec.sorted)
    problems: list[Problem] = []
    count = objects = 0
    gen = 0

    def found(problem: Problem) -> None:
        nonlocal count
        count += 1
        if len(problems) < MAX_PROBLEMS:
            problems.append(problem)

    def script_problems(prefix: bytes, replies: list[Any]) -> None:
        for kind, key, member in replies:
            index = None if kind == b"nohash" else _index_of(prefix, key)
            found(Problem(kind.decode(), index, _text(key), _text(member)))

    resets = yield from single(ScriptCall("check_resets", meta, (STALE_STAGING_MS,), writes=False))
    cut = resets.index(b"")
    abandoned, leftover = tuple(int(g) for g in resets[:cut]), tuple(int(g) for g in resets[cut + 1 :])
    for stale in abandoned:
        what = "a reset's staged dataset whose writer stopped (no write for 10 minutes)"
        found(Problem("abandoned", None, _text(spec.keys.generation(stale)), what))
    for old in leftover:
        what = "a replaced dataset, not cleaned up"
        found(Problem("leftover", None, _text(spec.keys.generation(old)), what))
    at: bytes = b"0"
    while True:
        args = (at, OBJECTS_PER_CALL, *spec.schema, nf, *spec.stored)
        reply = yield from single(ScriptCall("check_objects", meta, args, writes=False))
        gen, last, blob, ready = int(reply[0]), reply[1], reply[2], set(reply[3].decode().split(","))
        prefix = spec.keys.generation(gen)
        script_problems(prefix, reply[4:])
        for pk, raw in rows(blob, width):
            objects += 1
            _check_state(spec, gen, pk, raw, ready, pack, found)
        if progress is not None:
            progress(objects, 0)
        if not last:
            break
        at = last
    key, position = b"", b""
    while True:
        args = (key, position, ENTRIES_PER_CALL, *spec.schema)
        reply = yield from single(ScriptCall("check_keys", meta, args, writes=False))
        if int(reply[0]) != gen:  # its keys' names (the cursor) are another generation's
            what = "a reset replaced the dataset meanwhile: audit again"
            found(Problem("moved", None, _text(spec.keys.meta), what))
            break
        script_problems(spec.keys.generation(gen), reply[3:])
        key, position = reply[1], reply[2]
        if not key:
            break
    return Audit(spec.model.__qualname__, gen, objects, tuple(problems), count, abandoned, leftover)


def _check_state(
    spec: ModelSpec[Any],
    gen: int,
    pk: int,
    raw: list[Any],
    ready: set[str],
    pack: Callable[[Any], bytes],
    found: Callable[[Problem], None],
) -> None:
    """Compare an object's stored index state (f, #f, ~s) with what its values give."""
    nf, ni = len(spec.stored), len(spec.indexed)
    key = _text(spec.keys.object(gen, pk))
    try:
        obj = decode_object(spec, gen, pk, raw[:nf])
    except DecodeError as exc:
        found(Problem("decode", None, key, str(exc)))
        return
    encoded = encode_object(spec, obj, pack)
    state = raw[nf:]
    for i, field in enumerate(spec.indexed):
        name = f"e:{field.name}"
        want = encoded[1 + nf + i] or encoded[1 + i]
        have = state[2 * i + 1] or state[2 * i]
        if name in ready and have != want:
            found(Problem("member", name, key, f"field {field.name!r}: its index member is not its value's"))
    for j, field in enumerate(spec.sorted):
        name = f"s:{field.name}"
        if name in ready and state[2 * ni + j] != encoded[1 + nf + ni + j]:
            found(Problem("sortkey", name, key, f"field {field.name!r}: its sort key is not its value's"))


@dataclass(frozen=True, slots=True)
class Repair:
    """What `repair` did, and the audit after it."""

    deleted: tuple[int, ...]
    """Primary keys whose hash was gone: removed with their index entries."""
    rebuilt: ReindexReport
    after: Audit


def repair(spec: ModelSpec[Any], progress: Callable[[int, int], None] | None = None) -> Operation[Repair]:
    """Audit, fix what the audit found, and audit again."""
    found = yield from audit(spec)
    meta = (spec.keys.meta,)
    for stale in found.abandoned:  # retired, as the next reset would do: then cleaned up
        yield from single(ScriptCall("reset_abort", meta, (stale,), writes=True))
    if found.abandoned or found.leftover:
        yield from collect_retired(meta)
    phantoms = tuple(int(p.detail) for p in found.problems if p.kind == "nohash")
    if phantoms:
        yield from delete(spec, phantoms)
    broken = found.indexes
    if broken:
        args = (found.generation, len(broken), *broken, *spec.schema)
        call = ScriptCall("check_drop", (spec.keys.meta,), args, writes=True)
        yield from single(call)
    rebuilt = yield from reindex(spec, progress)
    after = yield from audit(spec)
    return Repair(phantoms, rebuilt, after)
