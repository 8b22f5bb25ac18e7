"""Index markers (`Indexed`) and the metadata typedredis derives from a model's fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

from pydantic import TypeAdapter
from pydantic.fields import FieldInfo

from .codec import index_member, row_header
from .errors import QueryError, SchemaError
from .expr import Fields
from .keys import KeySpace

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

Indexed = Annotated[T, EQ]
"""``Indexed[str]`` is ``Annotated[str, EQ]``: a field whose values can be queried with ``==``."""

_KEY_NAME = re.compile(r"[^{}\s]+")


class FieldSpec:
    """One stored field of a model: its name, its type and whether it is indexed."""

    __slots__ = ("_adapter", "annotation", "index", "metadata", "model_name", "name")

    def __init__(self, model_name: str, name: str, info: FieldInfo) -> None:
        self.model_name = model_name
        self.name = name
        self.annotation: Any = info.annotation
        self.metadata = tuple(info.metadata)
        markers = [m for m in self.metadata if isinstance(m, IndexMarker)]
        self.index: str | None = markers[-1].kind if markers else None
        self._adapter: TypeAdapter[Any] | None = None

    @property
    def indexed(self) -> bool:
        """Whether the field has an index (and so can be used in a query)."""
        return self.index is not None

    def validate(self, value: Any) -> Any:
        """Validate a query value against the field's type (pydantic's ValidationError on failure)."""
        if self._adapter is None:
            others = tuple(m for m in self.metadata if not isinstance(m, IndexMarker))
            target: Any = Annotated[(self.annotation, *others)] if others else self.annotation
            self._adapter = TypeAdapter(target)
        return self._adapter.validate_python(value)

    def member(self, value: Any) -> bytes:
        """Validate ``value`` and return its index member; refuses unindexed fields."""
        self.require_index()
        return index_member(self.validate(value))

    def require_index(self) -> None:
        """Raise `QueryError` naming the field and the fix unless the field is indexed."""
        if self.index is None:
            raise QueryError(
                f"{self.model_name}.{self.name} is not indexed, so it cannot be queried; "
                f"annotate it as `{self.name}: Indexed[...]` to index it"
            )


class ModelSpec:
    """Everything typedredis knows about one model class: its keys and its fields."""

    __slots__ = (
        "_namespace",
        "by_name",
        "fields",
        "indexed",
        "indexed_names",
        "keys",
        "model",
        "plain_names",
        "row_header",
        "stored",
        "validator",
    )

    def __init__(self, model: type[Model], key: str) -> None:
        self.check_key(model, key)
        self.model = model
        self.keys = KeySpace(key)
        specs = [
            FieldSpec(model.__qualname__, name, info)
            for name, info in model.model_fields.items()
            if name != "pk"
        ]
        if not specs:
            raise SchemaError(f"{model.__qualname__} has no fields to store")
        self.indexed = tuple(s for s in specs if s.indexed)
        self.fields = self.indexed + tuple(s for s in specs if not s.indexed)
        """Indexed fields first: scripts rely on that order."""
        self.stored = tuple(s.name for s in self.fields)
        self.by_name = {s.name: s for s in self.fields}
        self.indexed_names = tuple(s.name for s in self.indexed)
        self.plain_names = self.stored[len(self.indexed) :]
        self.row_header = row_header(len(self.stored))
        self.validator = model.__pydantic_validator__
        """Validates decoded rows (``validate_python``: no per-call model_validate overhead)."""
        self._namespace: Fields[Any] | None = None

    @staticmethod
    def check_key(model: type[Model], key: str) -> None:
        """Refuse key names that would break the hash tag (braces) or be unreadable (spaces)."""
        if not _KEY_NAME.fullmatch(key):
            raise SchemaError(
                f"{model.__qualname__}: key {key!r} must be non-empty and contain no braces or whitespace"
            )

    def namespace(self, model: type[M]) -> Fields[M]:
        """The `Fields` namespace ``model.f`` (one per model class)."""
        if self._namespace is None:
            self._namespace = Fields(model, self)
        return self._namespace

    def field(self, name: str) -> FieldSpec:
        """The spec of field ``name``; `QueryError` naming the model if there is none."""
        try:
            return self.by_name[name]
        except KeyError:
            raise QueryError(f"{self.model.__qualname__} has no field {name!r}") from None


def snake_case(name: str) -> str:
    """``HTTPRequestLog`` -> ``http_request_log``: the default key name of a model class."""
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", words).lower()
