"""`Query`: an immutable description of which objects of a model to act on.

Builder methods (`filter`, `exclude`) return new queries; terminal methods (`all`, `first`,
`count`, `exists`, `pks`, `delete`) compile the query and run it as one script call, one
round trip, against one consistent state of the data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import operations
from .compiler import Action, Program, compile_program, explain
from .errors import QueryError
from .expr import And, Expr, Not
from .session import executor_for

if TYPE_CHECKING:
    from .model import Model

M = TypeVar("M", bound="Model")

_LOOKUPS = ("eq", "ne", "in")


class Query(Generic[M]):
    """The objects of ``model`` that match every expression given so far."""

    __slots__ = ("_model", "_where")

    def __init__(self, model: type[M], where: Expr[M] | None = None) -> None:
        self._model = model
        self._where = where

    @property
    def model(self) -> type[M]:
        """The model class this query returns."""
        return self._model

    @property
    def where(self) -> Expr[M] | None:
        """The query's condition (None: every object)."""
        return self._where

    def filter(self, *exprs: Expr[M], **lookups: Any) -> Query[M]:
        """A new query that also requires ``exprs`` and Django-style ``lookups``.

        Lookups are ``field=value``, ``field__ne=value`` and ``field__in=[values]``.
        """
        parts = self._check(exprs) + self._lookups(lookups)
        return Query(self._model, self._and(parts))

    def exclude(self, *exprs: Expr[M], **lookups: Any) -> Query[M]:
        """A new query without the objects matching all of ``exprs`` and ``lookups`` (Django's rule)."""
        parts = self._check(exprs) + self._lookups(lookups)
        if not parts:
            return self
        excluded = parts[0] if len(parts) == 1 else And(self._model, tuple(parts))
        return Query(self._model, self._and([Not(self._model, excluded)]))

    def all(self) -> list[M]:
        """Every matching object, in ascending primary key order."""
        return self._run("fetch")  # type: ignore[no-any-return]

    def first(self) -> M | None:
        """The matching object with the lowest primary key, or None."""
        return self._run("first")  # type: ignore[no-any-return]

    def count(self) -> int:
        """How many objects match (no object is fetched)."""
        return self._run("count")  # type: ignore[no-any-return]

    def exists(self) -> bool:
        """Whether any object matches."""
        return self._run("exists")  # type: ignore[no-any-return]

    def pks(self) -> list[int]:
        """The primary keys of the matching objects, ascending."""
        return self._run("pks")  # type: ignore[no-any-return]

    def delete(self) -> int:
        """Delete every matching object (atomically, with its index entries); returns how many."""
        return self._run("delete")  # type: ignore[no-any-return]

    def program(self) -> Program:
        """The compiled set program (plain data) this query runs."""
        return compile_program(self._where)

    def explain(self) -> str:
        """The Redis set operations this query performs, one per line."""
        return explain(self.program())

    def _run(self, action: Action) -> Any:
        spec = self._model.spec()
        operation = operations.query(spec, self.program(), action)
        return executor_for(self._model).run(operation)

    def _and(self, parts: list[Expr[M]]) -> Expr[M] | None:
        if self._where is not None:
            parts = [self._where, *parts]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(self._model, tuple(parts))

    def _check(self, exprs: tuple[Expr[M], ...]) -> list[Expr[M]]:
        for expr in exprs:
            if not isinstance(expr, Expr):
                raise QueryError(
                    f"{self._model.__qualname__}.query() takes expressions such as "
                    f"{self._model.__qualname__}.f.name == 'x', got {expr!r}"
                )
            if not issubclass(self._model, expr.model):
                raise QueryError(
                    f"an expression on {expr.model.__qualname__} cannot filter {self._model.__qualname__}"
                )
        return list(exprs)

    def _lookups(self, lookups: dict[str, Any]) -> list[Expr[M]]:
        fields = self._model.f
        parts: list[Expr[M]] = []
        for key, value in lookups.items():
            name, _, op = key.partition("__")
            if op not in ("", *_LOOKUPS):
                raise QueryError(f"unknown lookup {key!r}: use {name}=, {name}__ne= or {name}__in=")
            field = getattr(fields, name) if name in self._model.spec().by_name else None
            if field is None:
                raise QueryError(f"{self._model.__qualname__} has no field {name!r}")
            if op == "in":
                parts.append(field.in_(value))
            elif op == "ne":
                parts.append(field != value)
            else:
                parts.append(field == value)
        return parts

    def __repr__(self) -> str:
        where = "" if self._where is None else repr(self._where)
        return f"<Query {self._model.__qualname__}.query({where})>"
