"""Index markers (`Indexed`, `Sorted`, `Unique`) and the metadata typedredis derives from fields."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, Generic, TypeVar, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .codec import decode_date, decode_datetime, decode_plain, decode_value, index_member
from .errors import InvalidValue, QueryError, SchemaError
from .expr import Fields
from .keys import KeySpace
from .sortkeys import SortKey, encoder_for, encoding_for

if TYPE_CHECKING:
    from .model import Model

T = TypeVar("T")
M = TypeVar("M", bound="Model")


@dataclass(frozen=True, slots=True)
class IndexMarker:
    """Marks a field as indexed inside ``Annotated[...]``; use the `Indexed` alias instead."""

    kind: str


EQ: Final = IndexMarker("eq")
"""The marker of an equality index (one Redis set per value)."""
RANGE: Final = IndexMarker("range")
"""The marker of a range index (one Redis sorted set per field, ordered by exact sort keys)."""
UNIQUE: Final = IndexMarker("unique")
"""The marker of a unique equality index: no two objects may share a value."""

Indexed = Annotated[T, EQ]
"""``Indexed[str]`` is ``Annotated[str, EQ]``: a field whose values can be queried with ``==``."""
Sorted = Annotated[T, RANGE]
"""``Sorted[int]`` is ``Annotated[int, RANGE]``: ``==``, ``<``, ``<=``, ``>``, ``>=``, ``between``,
``startswith`` (str) and `order_by`."""
Unique = Annotated[T, UNIQUE]
"""``Unique[str]`` is ``Annotated[str, UNIQUE]``: an equality index whose values are unique."""

_KEY_NAME = re.compile(r"[^{}\s]+")
_INDEX_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Compound:
    """An index over several fields: equality fields first, then at most one `Sorted` field.

    Declare them on a model as ``__indexes__ = (Compound("customer", "created_at"), ...)``.
    ``Compound("status", "amount")`` keeps, per value of ``status``, the objects ordered by
    ``amount``: ``status == s`` with a range, an order, a page or a count of ``amount`` is then
    read from one sorted set in O(log N + page). Without a sorted field it keeps, per
    combination of values, one set (an O(1) count of ``a == x & b == y``). Every field must
    have its own index (`Indexed`/`Unique`, or `Sorted` for the last one).
    """

    fields: tuple[str, ...]
    name: str

    def __init__(self, *fields: str, name: str | None = None) -> None:
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "name", name if name is not None else "_".join(fields))


@dataclass(frozen=True, slots=True)
class CompoundSpec:
    """A checked `Compound` of a model: its equality fields and its sorted field (or None)."""

    name: str
    eq: tuple[str, ...]
    sorted: str | None


MEMBER_ENCODING: Final = "m1"
"""The version of the equality index members' encoding (canonical msgpack, codec.index_member)."""


class FieldSpec:
    """One stored field of a model: its name, its type and its indexes."""

    __slots__ = (
        "_adapter",
        "annotation",
        "kinds",
        "metadata",
        "model_name",
        "name",
        "sort_encoding",
        "sort_key_of",
    )

    def __init__(self, model_name: str, name: str, info: FieldInfo) -> None:
        self.model_name = model_name
        self.name = name
        self.annotation: Any = info.annotation
        self.metadata = tuple(info.metadata)
        self.kinds = frozenset(m.kind for m in self.metadata if isinstance(m, IndexMarker))
        """The index kinds declared on the field: ``eq``, ``range``, ``unique``."""
        self.sort_key_of: SortKey | None = (
            encoder_for(self.annotation, f"{model_name}.{name}") if "range" in self.kinds else None
        )
        """The sort-key function of a `Sorted` field (None otherwise); takes validated values."""
        self.sort_encoding: str | None = (
            encoding_for(self.annotation, f"{model_name}.{name}") if "range" in self.kinds else None
        )
        """The name of its sort-key encoding (``int``, ``str``...), recorded with the index."""
        self._adapter: TypeAdapter[Any] | None = None

    @property
    def indexed(self) -> bool:
        """Whether the field has any index (and so can be used in a query)."""
        return bool(self.kinds)

    @property
    def equality(self) -> bool:
        """Whether the field has an equality index (a set per value): `Indexed` or `Unique`."""
        return "eq" in self.kinds or "unique" in self.kinds

    @property
    def unique(self) -> bool:
        """Whether the field's values must be unique."""
        return "unique" in self.kinds

    @property
    def sorted(self) -> bool:
        """Whether the field has a range index (`Sorted`)."""
        return self.sort_key_of is not None

    def validate(self, value: Any) -> Any:
        """Validate a query or update value against the field's type.

        Raises `InvalidValue` (a `QueryError` and a `ValueError`) naming the model and field.
        """
        if self._adapter is None:
            others = tuple(m for m in self.metadata if not isinstance(m, IndexMarker))
            target: Any = Annotated[(self.annotation, *others)] if others else self.annotation
            self._adapter = TypeAdapter(target)
        try:
            return self._adapter.validate_python(value)
        except ValidationError as exc:
            where = f"{self.model_name}.{self.name}"
            reasons = "; ".join(
                where + _location(e["loc"]) + ": " + e["msg"] for e in exc.errors(include_url=False)
            )
            message = f"{reasons} (got {short_repr(value)})"
            raise InvalidValue.of(exc, model=self.model_name, field=self.name, message=message) from exc

    def member(self, value: Any) -> bytes:
        """Validate ``value`` and return its equality-index member."""
        valid = self.validate(value)
        try:
            return index_member(valid)
        except UnicodeEncodeError:
            raise self._unencodable(valid) from None

    def sort_key(self, value: Any) -> bytes:
        """Validate ``value`` and return its sort key; refuses fields that are not `Sorted`."""
        self.require_sorted()
        assert self.sort_key_of is not None
        valid = self.validate(value)
        try:
            return self.sort_key_of(valid)
        except UnicodeEncodeError:
            raise self._unencodable(valid) from None
        except SchemaError:  # NaN: no order
            reason = "NaN has no order, so a Sorted field cannot be compared with it"
            raise invalid(self.model_name, self.name, value, "unorderable", reason) from None

    def _unencodable(self, value: Any) -> InvalidValue:
        error = unencodable(self.model_name, self.name, value)
        message = f"{self.model_name}.{self.name}: {error.errors()[0]['msg']} (got {short_repr(value)})"
        return InvalidValue.of(error, model=self.model_name, field=self.name, message=message)

    def require_index(self) -> None:
        """Raise `QueryError` naming the field and the fix unless the field is indexed."""
        if not self.kinds:
            raise QueryError(
                f"{self.model_name}.{self.name} is not indexed, so it cannot be queried; "
                f"annotate it as `{self.name}: Indexed[...]` to index it"
            )

    def require_sorted(self) -> None:
        """Raise `QueryError` naming the field and the fix unless the field is `Sorted`."""
        if self.sort_key_of is None:
            raise QueryError(
                f"{self.model_name}.{self.name} has no range index, so it cannot be compared with "
                f"<, <=, >, >=, between, startswith or ordered by; annotate it as "
                f"`{self.name}: Sorted[...]`"
            )


_SCALARS: Final = frozenset(
    [str, int, float, bool, bytes] + [t | None for t in (str, int, float, bool, bytes)]
)
"""Field types whose stored values never need typedredis' ext hook to validate (rows.py)."""
_ISO_DECODERS: Final = (((datetime, datetime | None), decode_datetime), ((date, date | None), decode_date))
"""Field types whose values a faster decoder reads as `decode_value` does (any validators)."""


def row_decoders(model: type[BaseModel], fields: tuple[FieldSpec, ...]) -> tuple[Callable[[bytes], Any], ...]:
    """The decoder a query's rows use for each field on their fast path (rows.py).

    msgpack's ``unpackb`` with keyword arguments costs about twice as much per value as without,
    and a field of a plain scalar type (str, int, float, bool, bytes, or one of them or None,
    without validators of its own) needs none: a value of such a field that needs the ext hook
    (a big int, or bytes another program wrote) comes back as an ``ExtType``, which fails
    validation, and the row is decoded again on the exact path. A model with a before, wrap
    or plain validator could turn that ``ExtType`` into a value, so it uses the exact decoder
    for every field.
    """
    decorators = model.__pydantic_decorators__
    modes = [d.info.mode for d in decorators.field_validators.values()]
    modes += [d.info.mode for d in decorators.model_validators.values()]
    lenient = any(mode != "after" for mode in modes)

    def plain(field: FieldSpec) -> bool:
        others = [m for m in field.metadata if not isinstance(m, IndexMarker)]
        return not lenient and not others and field.annotation in _SCALARS

    def decoder(field: FieldSpec) -> Callable[[bytes], Any]:
        if plain(field):
            return decode_plain
        for types, fast in _ISO_DECODERS:
            if field.annotation in types:
                return fast
        return decode_value

    return tuple(decoder(f) for f in fields)


def row_builder(
    names: tuple[str, ...], decoders: tuple[Callable[[bytes], Any], ...]
) -> Callable[[list[Any], int], dict[str, Any]]:
    """A function ``(raw values, pk) -> {name: decoded value, ..., "pk": pk}`` for one model's
    rows, written out field by field as a dict display: ~0.7 µs per row less than building
    the dict from ``map`` and ``zip`` (rows.py). Generated once per model, as dataclasses
    writes its ``__init__``; the names are only ever dict keys (their ``repr``), the decoders
    are passed in, never written into the source."""
    items = "".join(f"{name!r}: d{i}(raw[{i}]), " for i, name in enumerate(names))
    namespace: dict[str, Any] = {f"d{i}": decoder for i, decoder in enumerate(decoders)}
    exec(f"def build(raw, pk):\n    return {{{items}'pk': pk}}", namespace)
    return cast("Callable[[list[Any], int], dict[str, Any]]", namespace["build"])


class ModelSpec(Generic[M]):
    """Everything typedredis knows about one model class: its keys and its fields."""

    __slots__ = (
        "_namespace",
        "by_name",
        "compounds",
        "fields",
        "indexed",
        "indexed_names",
        "indexes",
        "keys",
        "model",
        "plain_names",
        "row_builder",
        "row_decoders",
        "save_schema",
        "schema",
        "signature",
        "sorted",
        "sorted_names",
        "stored",
        "unique_count",
        "validator",
    )

    def __init__(self, model: type[M], key: str) -> None:
        self.check_key(model, key)
        self.model: type[M] = model
        self.keys = KeySpace(key)
        specs = [
            FieldSpec(model.__qualname__, name, info)
            for name, info in model.model_fields.items()
            if name != "pk"
        ]
        if not specs:
            raise SchemaError(f"{model.__qualname__} has no fields to store")
        unique = tuple(s for s in specs if s.unique)
        self.indexed = unique + tuple(s for s in specs if s.equality and not s.unique)
        """Fields with an equality index, unique ones first: scripts rely on that order."""
        self.unique_count = len(unique)
        self.fields = self.indexed + tuple(s for s in specs if not s.equality)
        """Equality-indexed fields first: scripts rely on that order."""
        self.sorted = tuple(s for s in self.fields if s.sorted)
        """Fields with a range index, in `fields` order."""
        self.sorted_names = tuple(s.name for s in self.sorted)
        self.stored = tuple(s.name for s in self.fields)
        self.by_name = {s.name: s for s in self.fields}
        self.indexed_names = tuple(s.name for s in self.indexed)
        self.plain_names = self.stored[len(self.indexed) :]
        self.validator = model.__pydantic_validator__
        """Validates decoded rows (``validate_python``: no per-call model_validate overhead)."""
        self.row_decoders = row_decoders(model, self.fields)
        """The fast decoder of each stored field (see `row_decoders`), in `stored` order."""
        self.row_builder = row_builder(self.stored, self.row_decoders)
        """A row's raw values and pk as the dict its validation takes (see `row_builder`)."""
        self.compounds = tuple(self._compound(c) for c in getattr(model, "__indexes__", ()))
        """The model's compound indexes (``__indexes__``), checked."""
        if len({c.name for c in self.compounds}) < len(self.compounds):
            raise SchemaError(f"{model.__qualname__}.__indexes__: two compound indexes share a name")
        schema: list[Any] = [len(self.indexed), *self.indexed_names, len(self.sorted), *self.sorted_names]
        schema.append(len(self.compounds))
        for c in self.compounds:
            schema += [c.name, len(c.eq), *(self.indexed_names.index(f) + 1 for f in c.eq)]
            schema.append(0 if c.sorted is None else self.sorted_names.index(c.sorted) + 1)
        self.indexes: tuple[tuple[str, str], ...] = tuple(
            [(f"e:{name}", MEMBER_ENCODING) for name in self.indexed_names]
            + [(f"s:{s.name}", s.sort_encoding or "") for s in self.sorted]
        )
        """Each single-field index as Redis records it per generation (see lib.lua,
        ``note_indexes``): its name (``e:<field>`` equality, ``s:<field>`` sorted) and the
        encoding of its entries."""
        schema += [len(self.indexes), *(part for index in self.indexes for part in index)]
        self.signature = "2|" + ",".join(
            [f"{name}={encoding}" for name, encoding in self.indexes] + [c.name for c in self.compounds]
        )
        """Every index of the model in one string: a generation whose records show all of them
        ready stores it, so that scripts check that with one HGET (lib.lua, note_indexes).
        Its prefix names the writers' rules: ``2|`` writers bump the write stamp (lib.lua,
        stamp_written). A ``1|`` writer of an older release, which does not, stores its own:
        readers trust the indexes under either, and the stamp only under ``2|``."""
        schema.append(self.signature)
        self.schema: tuple[Any, ...] = tuple(schema)
        """What index-maintaining scripts receive: see lib.lua, ``read_schema``."""
        self.save_schema: tuple[Any, ...] = (self.unique_count, len(self.stored), *self.stored, *self.schema)
        """The schema save.lua is compiled with, one script per model (save.lua, HEAD)."""
        self._namespace: Fields[Any] | None = None

    def _compound(self, compound: object) -> CompoundSpec:
        """Check one entry of ``__indexes__``: names, kinds and order of its fields."""
        where = f"{self.model.__qualname__}.__indexes__"
        if not isinstance(compound, Compound):
            raise SchemaError(f"{where} holds Compound(...) entries, got {compound!r}")
        if not _INDEX_NAME.fullmatch(compound.name):
            raise SchemaError(f"{where}: the index name {compound.name!r} must be an identifier")
        fields = compound.fields
        if len(fields) < 2 or len(set(fields)) < len(fields):
            raise SchemaError(f"{where}: {compound!r} needs two or more distinct fields")
        for name in fields:
            if name not in self.by_name:
                raise SchemaError(f"{where}: {self.model.__qualname__} has no field {name!r}")
        *eq, last = fields
        sorted_field = last if self.by_name[last].sorted else None  # else: one more equality field
        if sorted_field is None:
            eq.append(last)
        for name in eq:
            if not self.by_name[name].equality:
                raise SchemaError(
                    f"{where}: {name!r} must be Indexed or Unique (equality fields come first, "
                    "then at most one Sorted field)"
                )
        return CompoundSpec(compound.name, tuple(eq), sorted_field)

    @staticmethod
    def check_key(model: type[Model], key: str) -> None:
        """Refuse key names that would break the hash tag (braces) or be unreadable (spaces)."""
        if not _KEY_NAME.fullmatch(key):
            raise SchemaError(
                f"{model.__qualname__}: key {key!r} must be non-empty and contain no braces or whitespace"
            )

    def namespace(self) -> Fields[M]:
        """The `Fields` namespace ``model.f`` (one per model class)."""
        if self._namespace is None:
            self._namespace = Fields(self.model, self)
        return self._namespace

    def field(self, name: str) -> FieldSpec:
        """The spec of field ``name``; `QueryError` naming the model if there is none."""
        try:
            return self.by_name[name]
        except KeyError:
            raise QueryError(f"{self.model.__qualname__} has no field {name!r}") from None


def unencodable(model_name: str, field: str, value: Any) -> ValidationError:
    """The `ValidationError` of a string that UTF-8 cannot encode (a lone surrogate, which
    pydantic's ``str`` accepts: JSON can carry one as ``"\\ud800"``)."""
    kind = PydanticCustomError(
        "string_unicode",
        "Input should be a valid string: it holds a lone surrogate, which UTF-8 cannot encode",
    )
    return ValidationError.from_exception_data(model_name, [{"type": kind, "loc": (field,), "input": value}])


def invalid(model_name: str, field: str, value: Any, kind: str, reason: str) -> InvalidValue:
    """The `InvalidValue` of a value that pydantic accepts and typedredis cannot use: ``kind``
    is its error type (as in `errors()`), ``reason`` its message."""
    error = ValidationError.from_exception_data(
        model_name, [{"type": PydanticCustomError(kind, reason), "loc": (field,), "input": value}]
    )
    message = f"{model_name}.{field}: {reason} (got {short_repr(value)})"
    return InvalidValue.of(error, model=model_name, field=field, message=message)


def _location(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to at most ``limit`` characters: error messages never quote a
    huge value whole."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def snake_case(name: str) -> str:
    """``HTTPRequestLog`` -> ``http_request_log``: the default key name of a model class."""
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()
