"""The expression tree: ``User.f.name == "ann"`` builds an immutable `Expr`, never a bool.

`Field` objects (reached through the `Fields` namespace ``Model.f``) build leaves (`Eq`,
`In`, and on `Sorted` fields `Range`); ``&``, ``|`` and ``~`` combine them into `And`, `Or`
and `Not`. Expressions hold validated values and their index members or sort keys, so a bad
value fails here, before any I/O. `Expr` is contravariant in its model: a predicate on a base
model may filter a subclass. `SortedField.asc`/`desc` build an `Ordering` for `order_by`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import QueryError
from .sortkeys import AFTER_PK, AFTER_PREFIX, VALUE, str_prefix

if TYPE_CHECKING:
    from .fields import FieldSpec, ModelSpec
    from .model import Model

M = TypeVar("M", bound="Model")
M_contra = TypeVar("M_contra", bound="Model", contravariant=True)
T = TypeVar("T")


class Expr(Generic[M_contra]):
    """A predicate over objects of one model; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    @property
    def model(self) -> type[Model]:
        """The model class the expression filters."""
        raise NotImplementedError

    def __and__(self, other: Expr[M_contra]) -> Expr[M_contra]:
        return And(_common_model(self, other), (self, other))

    def __or__(self, other: Expr[M_contra]) -> Expr[M_contra]:
        return Or(_common_model(self, other), (self, other))

    def __invert__(self) -> Expr[M_contra]:
        return Not(self.model, self)

    def __bool__(self) -> bool:
        raise QueryError(
            f"the truth value of a query expression ({self!r}) is undefined; "
            "pass it to Model.query(...) instead of testing it with if/and/or"
        )


def _common_model(a: Expr[Any], b: Expr[Any]) -> type[Model]:
    if not isinstance(b, Expr):
        raise QueryError(f"cannot combine a query expression with {type(b).__qualname__}")
    if issubclass(a.model, b.model):
        return a.model
    if issubclass(b.model, a.model):
        return b.model
    raise QueryError(f"cannot combine expressions of {a.model.__qualname__} and {b.model.__qualname__}")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class _Node(Expr[Any]):
    """A node of the tree; ``owner`` is the model it filters."""

    owner: type[Model]

    @property
    def model(self) -> type[Model]:
        """The model class the expression filters."""
        return self.owner


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Eq(_Node):
    """``field == value``: the objects in the index set of ``member``."""

    field: str
    value: Any
    member: bytes

    def __repr__(self) -> str:
        return f"{self.owner.__qualname__}.f.{self.field} == {self.value!r}"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class In(_Node):
    """``field.in_(values)``: the union of the index sets of ``members``."""

    field: str
    values: tuple[Any, ...]
    members: tuple[bytes, ...]

    def __repr__(self) -> str:
        return f"{self.owner.__qualname__}.f.{self.field}.in_({list(self.values)!r})"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Range(_Node):
    """Objects whose sort key for ``field`` lies between ``low`` and ``high``.

    The bounds are ``ZRANGEBYLEX`` arguments over the members ``sort key + 8-byte pk``:
    ``[`` inclusive, ``(`` exclusive, ``-``/``+`` unbounded. None values are never inside a
    range (their key sorts below every value), so ``low`` starts at ``[\x01`` at the least.
    """

    field: str
    low: bytes
    high: bytes
    text: str

    def __repr__(self) -> str:
        return f"{self.owner.__qualname__}.f.{self.field}{self.text}"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class And(_Node):
    """All of ``parts`` hold."""

    parts: tuple[Expr[Any], ...]

    def __repr__(self) -> str:
        return "(" + " & ".join(map(repr, self.parts)) + ")"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Or(_Node):
    """At least one of ``parts`` holds."""

    parts: tuple[Expr[Any], ...]

    def __repr__(self) -> str:
        return "(" + " | ".join(map(repr, self.parts)) + ")"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Not(_Node):
    """``part`` does not hold."""

    part: Expr[Any]

    def __repr__(self) -> str:
        return f"~({self.part!r})"


class Field(Generic[M, T]):
    """A model field inside a query: compare it to build expressions.

    ``User.f.age == 3`` matches the objects whose ``age`` has the same index member as ``3``
    (same kind and equal value, see the codec); ``User.f.age != 3`` matches all the others,
    including those whose value is None. Values are validated against the field's type first
    (pydantic's ValidationError). Only indexed fields can be compared (`QueryError` otherwise).
    On a field that is only `Sorted`, ``==`` and ``in_`` use its range index (exact sort keys).
    """

    __slots__ = ("owner", "spec")
    __hash__ = None  # type: ignore[assignment]  # == builds an expression: a field is unhashable

    def __init__(self, owner: type[M], spec: FieldSpec) -> None:
        self.owner = owner
        self.spec = spec

    @property
    def name(self) -> str:
        """The field's name."""
        return self.spec.name

    def __eq__(self, other: T) -> Expr[M]:  # type: ignore[override]  # returns an expression, like peewee
        spec = self.spec
        if spec.equality:
            return Eq(self.owner, spec.name, other, spec.member(other))
        if spec.sorted:
            key = spec.sort_key(other)
            return Range(self.owner, spec.name, b"[" + key, b"[" + key + AFTER_PK, f" == {other!r}")
        spec.require_index()
        raise AssertionError("unreachable")  # pragma: no cover

    def __ne__(self, other: T) -> Expr[M]:  # type: ignore[override]  # returns an expression, like peewee
        return Not(self.owner, self == other)

    def in_(self, values: Iterable[T]) -> Expr[M]:
        """The field's value is one of ``values`` (an empty iterable matches nothing)."""
        if isinstance(values, (str, bytes)):
            raise QueryError(
                f"{self!r}.in_() takes a collection of values, not a single {type(values).__name__}"
            )
        kept = tuple(values)
        self.spec.require_index()
        if not self.spec.equality:
            parts = tuple(self == v for v in kept)
            if len(parts) == 1:
                return parts[0]
            return Or(self.owner, parts) if parts else In(self.owner, self.spec.name, (), ())
        members = tuple(dict.fromkeys(self.spec.member(v) for v in kept))
        return In(self.owner, self.spec.name, kept, members)

    def __repr__(self) -> str:
        return f"{self.owner.__qualname__}.f.{self.spec.name}"

    if not TYPE_CHECKING:  # at runtime only: to type checkers a Field has no ordering at all

        def __lt__(self, other):
            self.spec.require_sorted()  # a QueryError naming the field and the fix
            return NotImplemented

        __le__ = __gt__ = __ge__ = __lt__

        def _needs_range_index(self, *args, **kwargs):
            self.spec.require_sorted()

        between = startswith = asc = desc = _needs_range_index


class SortedField(Field[M, T]):
    """A `Sorted` field: also ``<``, ``<=``, ``>``, ``>=``, `between`, `startswith` and ordering.

    Comparisons are exact (sort keys, not double scores) and never match None values.
    """

    __slots__ = ()

    def _range(self, low: bytes, high: bytes, text: str) -> Expr[M]:
        return Range(self.owner, self.spec.name, low, high, text)

    def __lt__(self, other: T) -> Expr[M]:
        return self._range(b"[" + VALUE, b"(" + self.spec.sort_key(other), f" < {other!r}")

    def __le__(self, other: T) -> Expr[M]:
        return self._range(b"[" + VALUE, b"[" + self.spec.sort_key(other) + AFTER_PK, f" <= {other!r}")

    def __gt__(self, other: T) -> Expr[M]:
        return self._range(b"(" + self.spec.sort_key(other) + AFTER_PK, b"+", f" > {other!r}")

    def __ge__(self, other: T) -> Expr[M]:
        return self._range(b"[" + self.spec.sort_key(other), b"+", f" >= {other!r}")

    def between(self, low: T, high: T) -> Expr[M]:
        """``low <= value <= high`` (both ends included)."""
        return self._range(
            b"[" + self.spec.sort_key(low),
            b"[" + self.spec.sort_key(high) + AFTER_PK,
            f".between({low!r}, {high!r})",
        )

    def startswith(self, prefix: str) -> Expr[M]:
        """String values that start with ``prefix`` (a `Sorted[str]` field only)."""
        start = VALUE + str_prefix(prefix)
        if self.spec.sort_key(prefix) != start + b"\x00\x00":
            raise QueryError(f"{self!r}.startswith() needs a Sorted[str] field")
        return self._range(b"[" + start, b"(" + start + AFTER_PREFIX, f".startswith({prefix!r})")

    def asc(self) -> Ordering[M]:
        """Order by this field, smallest first (ties: lowest pk first; None values first)."""
        return Ordering(self.owner, self.spec.name, descending=False)

    def desc(self) -> Ordering[M]:
        """Order by this field, largest first (ties: highest pk first; None values last)."""
        return Ordering(self.owner, self.spec.name, descending=True)


@dataclass(frozen=True, slots=True)
class Ordering(Generic[M_contra]):
    """An ``order_by`` argument: a `Sorted` field and a direction."""

    owner: type[Model]
    field: str
    descending: bool


class Fields(Generic[M]):
    """The field namespace of a model, ``Model.f``: ``User.f.name`` is a `Field`.

    A `Sorted` field is a `SortedField`, any other one a plain `Field`. Type checkers without
    the typedredis mypy plugin see every field as the loose ``SortedField[M, Any]``, so that no
    correct query is reported; the plugin gives each field its own class and value type.
    """

    __slots__ = ("_fields", "_model", "_spec")

    _model: type[M]
    _spec: ModelSpec[M]
    _fields: dict[str, SortedField[M, Any]]

    def __init__(self, model: type[M], spec: ModelSpec[M]) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_fields", {})

    def __getattr__(self, name: str) -> SortedField[M, Any]:
        try:
            return self._fields[name]
        except KeyError:
            pass
        if name.startswith("__"):
            raise AttributeError(name)
        spec = self._spec.by_name.get(name)
        if spec is None:
            raise AttributeError(f"{self._model.__qualname__} has no field {name!r}")
        # Typed as the loose fallback (see the class docstring); a plain Field at runtime.
        field: SortedField[M, Any] = (SortedField if spec.sorted else Field)(  # type: ignore[assignment]  # see the comment above
            self._model, spec
        )
        self._fields[name] = field
        return field

    def __dir__(self) -> list[str]:
        return list(self._spec.stored)

    def __repr__(self) -> str:
        return f"<fields of {self._model.__qualname__}: {', '.join(self._spec.stored)}>"
