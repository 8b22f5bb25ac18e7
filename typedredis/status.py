"""What Redis holds for a model, read-only: its generation, objects, memory and index records.

`status` compares the records of the current generation (see lib.lua, ``note_indexes``) with
the indexes the caller's code declares; ``typedredis stats`` and ``typedredis check --schema``
print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .fields import ModelSpec
from .plan import Operation, RawCall

MEMORY_SAMPLE: Final = 20
"""Objects whose memory is measured (``MEMORY USAGE``) to estimate the bytes per object."""


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """One index: its record name, the encoding the code writes (None: the code does not
    declare it), and its record in Redis (None: not recorded)."""

    name: str
    code: str | None
    record: str | None

    @property
    def ok(self) -> bool:
        """Whether queries of this code can use it (or, not declared, nothing is left of it)."""
        if self.code is None:
            return self.record is None or not self.record.startswith("dropped")
        if self.record is None:
            return False
        return self.record == ("ready" if self.code == "" else f"ready:{self.code}")


@dataclass(frozen=True, slots=True)
class Status:
    """A model as Redis holds it."""

    model: str
    generation: int
    objects: int
    bytes_per_object: float | None
    """The mean ``MEMORY USAGE`` of up to `MEMORY_SAMPLE` object hashes (None: no objects)."""
    index_keys: int
    """Keys in the generation's registry of index keys."""
    recorded: bool
    """False for a generation that no writer recorded indexes in (empty, or written by a
    typedredis before records): its indexes are served as they are."""
    indexes: tuple[IndexStatus, ...]
    job: str | None
    """The plan of a reindex job in progress (or interrupted), if any."""

    @property
    def schema_ok(self) -> bool:
        """Whether every index the code declares is ready, and no dropped one is left."""
        return not self.recorded or all(index.ok for index in self.indexes)

    def as_dict(self) -> dict[str, Any]:
        """The status as JSON-ready data (``typedredis stats --json``)."""
        out = {name: getattr(self, name) for name in self.__slots__ if name != "indexes"}
        out["indexes"] = [
            {"name": i.name, "code": i.code, "record": i.record, "ok": i.ok} for i in self.indexes
        ]
        out["schema_ok"] = self.schema_ok
        return out


def status(spec: ModelSpec[Any]) -> Operation[Status]:
    """Read the model's current generation, its size and index records."""
    (gen_raw,) = yield (RawCall(("HGET", spec.keys.meta, "gen")),)
    gen = int(gen_raw or 0)
    prefix = spec.keys.generation(gen)
    all_key, registry = spec.keys.all(gen), spec.keys.registry(gen)
    objects, index_keys, raw, sample = yield (
        RawCall(("ZCARD", all_key)),
        RawCall(("ZCARD", registry)),
        RawCall(("HGETALL", prefix + b"schema")),
        RawCall(("ZRANGE", all_key, 0, MEMORY_SAMPLE - 1)),
    )
    sizes: list[Any] = []
    if sample:
        sizes = yield tuple(RawCall(("MEMORY", "USAGE", spec.keys.object(gen, int(pk)))) for pk in sample)
    known = [s for s in sizes if isinstance(s, int)]
    flat = list(raw.items()) if isinstance(raw, dict) else list(zip(raw[::2], raw[1::2], strict=True))
    records = {k.decode(): v.decode() for k, v in flat}
    code: dict[str, str] = dict(spec.indexes) | {c.name: "" for c in spec.compounds}
    names = list(code) + sorted(n for n in records if not n.startswith(":") and n not in code)
    return Status(
        model=spec.model.__qualname__,
        generation=gen,
        objects=int(objects),
        bytes_per_object=sum(known) / len(known) if known else None,
        index_keys=int(index_keys),
        recorded=":v" in records,
        indexes=tuple(IndexStatus(n, code.get(n), records.get(n)) for n in names),
        job=records.get(":plan"),
    )
