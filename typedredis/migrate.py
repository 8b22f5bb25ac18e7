"""``reindex --migrate``: rewrite every stored object in the form its code writes.

Objects stored by an earlier release can differ from what the current code would store for
them: a migration hook (a ``field_validator(mode="before")``) converts an old value on every
read; a field the code removed is still in the hash; a field added with a default is absent.
Reads handle all three. A migration makes the conversion permanent, so that the hook and the
old values can go: the objects are read whole in pk order (``migrate_read``), decoded and
encoded here exactly as a load then a save would, and each object whose stored hash is not
what a save writes is saved again with the save script in its compare-and-set mode ('m'): it
replaces the object, and moves its index entries, only while the object still holds the bytes
read. An object a writer changed meanwhile is skipped: that writer stored it in its own form.

Each call is bounded (`MIGRATE_PER_CALL` objects); the next batch is read in the same round
trip as the current one is written. Every call is atomic; the migration as a whole is not (it
has no checkpoint to resume: running it again visits everything and writes what is left). A
reset that switches generations meanwhile makes it start over on the new dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from .codec import packer
from .fields import ModelSpec
from .operations import _check_saved, _save_call, encode_object
from .plan import Arg, Operation, ScriptCall
from .rows import decode_object

MIGRATE_PER_CALL: Final = 50
"""Objects read, then written, per call: a save call writes 100 objects in ~1.5 ms; reading
each object whole and comparing its stored bytes costs as much again."""

Progress = Callable[[int, int], None]


def migrate(spec: ModelSpec[Any], progress: Progress | None = None) -> Operation[tuple[int, int]]:
    """Rewrite the objects that are not stored in the form ``spec`` writes: ``(migrated,
    skipped)``, skipped being the objects a writer changed between read and write."""
    pack = packer()
    gen: bytes | None = None
    at = b"0"
    migrated = skipped = done = 0
    replies = yield (_read_call(spec, at),)
    while True:
        reply = replies[-1]
        if gen is not None and reply[0] != gen:  # a reset switched datasets: start over
            gen, at, done = None, b"0", 0
            replies = yield (_read_call(spec, at),)
            continue
        gen, last, total, objects = reply[0], reply[1], int(reply[2]), reply[3:]
        if not last:
            return migrated, skipped
        rows = [row for row in (_row(spec, int(gen), obj, pack) for obj in objects) if row is not None]
        done += len(objects)
        if rows:
            save = _save_call(spec, None, rows, b"m")
            replies = yield (save, _read_call(spec, last))
            written = len(_check_saved(spec, replies[0], several=True))
            migrated, skipped = migrated + written, skipped + len(rows) - written
        else:
            replies = yield (_read_call(spec, last),)
        at = last
        if progress is not None:
            progress(done, total)


def _read_call(spec: ModelSpec[Any], at: bytes) -> ScriptCall:
    return ScriptCall("migrate_read", (spec.keys.meta,), (at, MIGRATE_PER_CALL), writes=False)


def _row(spec: ModelSpec[Any], gen: int, flat: list[bytes], pack: Callable[[Any], bytes]) -> list[Arg] | None:
    """The save arguments that migrate one object read whole, or None when it is stored in
    the form the code writes already."""
    pk = int(flat[0])
    stored = {flat[i]: flat[i + 1] for i in range(1, len(flat), 2)}
    names = [name.encode() for name in spec.stored]
    raw = [stored.get(name) for name in names]  # None: the hash lacks the field
    args = encode_object(spec, decode_object(spec, gen, pk, raw), pack)  # DecodeError: key, field
    nf, ni = len(names), len(spec.indexed)
    wanted = dict(zip(names, args[1 : 1 + nf], strict=True))
    for name, member in zip(spec.indexed_names, args[1 + nf : 1 + nf + ni], strict=True):
        if member != b"":
            wanted[b"#" + name.encode()] = member
    for name, key in zip(spec.sorted_names, args[1 + nf + ni :], strict=True):
        wanted[b"~" + name.encode()] = key
    if wanted == stored:
        return None
    return [*args, *(stored.get(name, b"") for name in names), len(stored)]
