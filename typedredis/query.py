"""`Query`: an immutable description of which objects of a model to act on, and in what order.

Builder methods (`filter`, `exclude`, `order_by`, `limit`, `offset`, `only`) return new
queries; terminal methods (`all`, `first`, `count`, `exists`, `pks`, `delete`, `update`) compile
the query and run it: usually in one script call and one round trip, against one consistent
state of the data; a result too large for one call of bounded server time comes in several,
each atomic (see typedredis.querying and the query strategies page). `iter` streams a large
result in batches (one round trip per batch).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Protocol, TypeVar, overload

from . import querying
from .compiler import WHOLE, Action, Formula, Page, compile_formula, explain, use_compounds
from .errors import QueryError
from .expr import And, Expr, Field, Not, Ordering, SortedField
from .fields import short_repr
from .session import async_executor, sync_executor

if TYPE_CHECKING:
    from .executor import AsyncExecutor, SyncExecutor
    from .fields import ModelSpec
    from .model import Model

M = TypeVar("M", bound="Model")
M_contra = TypeVar("M_contra", bound="Model", contravariant=True)
R = TypeVar("R")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")

_LOOKUPS = ("eq", "ne", "in", "lt", "lte", "gt", "gte", "startswith")


class Counted(NamedTuple, Generic[M]):
    """A page of objects and the number of objects that match in all (`Query.page_with_count`)."""

    items: list[M]
    total: int


class OrderKey(Protocol[M_contra]):
    """What `Query.order_by` takes besides an `Ordering`: a `SortedField` (typing only).

    ``SortedField[User, T]`` is an ``OrderKey[Admin]`` when ``Admin`` derives from ``User``, as a
    predicate on a base model filters a subclass, so no type checker needs a plugin to accept
    a base model's field or to refuse another model's.
    """

    def asc(self) -> Ordering[M_contra]:
        """Order by the field, smallest first."""
        ...


class Query(Generic[M]):
    """The objects of ``model`` that match every expression given so far."""

    __slots__ = ("_model", "_page", "_where")

    def __init__(self, model: type[M], where: Expr[M] | None = None, page: Page = WHOLE) -> None:
        self._model = model
        self._where = where
        self._page = page

    @property
    def model(self) -> type[M]:
        """The model class this query returns."""
        return self._model

    @property
    def where(self) -> Expr[M] | None:
        """The query's condition (None: every object)."""
        return self._where

    @property
    def page(self) -> Page:
        """The order, offset and limit of the query's results."""
        return self._page

    # -- builders --------------------------------------------------------------------------

    def filter(self, *exprs: Expr[M], **lookups: Any) -> Query[M]:
        """A new query that also requires ``exprs`` and Django-style ``lookups``.

        Lookups are ``field=value``, ``field__ne=``, ``field__in=[...]`` and, on `Sorted`
        fields, ``field__lt=``, ``__lte=``, ``__gt=``, ``__gte=`` and ``__startswith=``.
        """
        parts = self._check(exprs) + self._lookups(lookups)
        return Query(self._model, self._and(parts), self._page)

    def exclude(self, *exprs: Expr[M], **lookups: Any) -> Query[M]:
        """A new query without the objects matching all of ``exprs`` and ``lookups`` (Django's rule)."""
        parts = self._check(exprs) + self._lookups(lookups)
        if not parts:
            return self
        excluded = parts[0] if len(parts) == 1 else And(self._model, tuple(parts))
        return Query(self._model, self._and([Not(self._model, excluded)]), self._page)

    def order_by(self, key: OrderKey[M] | Ordering[M]) -> Query[M]:
        """A new query whose results are ordered by a `Sorted` field (``Event.f.at.desc()``).

        Ties are broken by pk (ascending, or descending with ``desc()``), so pages are stable;
        None values come first in ascending order. Without `order_by`, results come in pk order.
        """
        if isinstance(key, SortedField):
            key = key.asc()
        elif isinstance(key, Field):
            key.spec.require_sorted()  # an error naming the field and the fix
        if not isinstance(key, Ordering):
            raise QueryError(f"order_by() takes a Sorted field or field.asc()/.desc(), got {key!r}")
        if not issubclass(self._model, key.owner):
            raise QueryError(f"a field of {key.owner.__qualname__} cannot order {self._model.__qualname__}")
        self._model.spec().field(key.field).require_sorted()
        return Query(
            self._model, self._where, replace(self._page, order=key.field, descending=key.descending)
        )

    def limit(self, count: int) -> Query[M]:
        """A new query returning at most ``count`` objects (applied on the server)."""
        return Query(self._model, self._where, replace(self._page, limit=_count("limit", count)))

    def offset(self, count: int) -> Query[M]:
        """A new query skipping the first ``count`` objects (applied on the server)."""
        return Query(self._model, self._where, replace(self._page, offset=_count("offset", count)))

    @overload
    def only(self, f1: Field[M, T1], /) -> Projection[tuple[T1]]: ...
    @overload
    def only(self, f1: Field[M, T1], f2: Field[M, T2], /) -> Projection[tuple[T1, T2]]: ...
    @overload
    def only(
        self, f1: Field[M, T1], f2: Field[M, T2], f3: Field[M, T3], /
    ) -> Projection[tuple[T1, T2, T3]]: ...
    @overload
    def only(
        self, f1: Field[M, T1], f2: Field[M, T2], f3: Field[M, T3], f4: Field[M, T4], /
    ) -> Projection[tuple[T1, T2, T3, T4]]: ...
    @overload
    def only(self, *fields: Field[M, Any]) -> Projection[tuple[Any, ...]]: ...
    def only(self, *fields: Field[M, Any]) -> Projection[Any]:
        """Fetch only these fields (``HMGET``): results are tuples of their values, in this order."""
        if not fields:
            raise QueryError("only() needs at least one field")
        for field in fields:
            if not isinstance(field, Field) or not issubclass(self._model, field.owner):
                raise QueryError(f"only() takes fields of {self._model.__qualname__}, got {field!r}")
        return Projection(self, tuple(f.name for f in fields))

    # -- terminal methods ------------------------------------------------------------------
    #
    # Each builds an operation of the pure core (typedredis.querying) and runs it on the model's
    # sync client; its a-twin awaits it on the model's asyncio client.

    def all(self) -> list[M]:
        """Every matching object (in pk order, unless ordered), on the server-side page."""
        return self._sync("all").run(querying.fetch(self._spec, self.formula(), self._page))

    async def aall(self) -> list[M]:
        """`all`, on the model's asyncio client."""
        return await self._async("aall").run(querying.fetch(self._spec, self.formula(), self._page))

    def first(self) -> M | None:
        """The first matching object (lowest pk, unless ordered), or None."""
        return self._sync("first").run(querying.first(self._spec, self.formula(), self._page))

    async def afirst(self) -> M | None:
        """`first`, on the model's asyncio client."""
        return await self._async("afirst").run(querying.first(self._spec, self.formula(), self._page))

    def page_with_count(self) -> Counted[M]:
        """The page (``offset``/``limit``/``order_by`` applied) and how many objects match in all:
        ``items, total = q.limit(20).page_with_count()``.

        A page that Redis answers by rank (every object, or a range of the `Sorted` field or
        compound index that gives the order) comes with its count from the same script call:
        one atomic snapshot. Any other page and its count are two calls in one round trip (when
        each fits in one call), read one right after the other: a write that lands between them
        can make them disagree by that write (a `reset` between them makes both start over).
        """
        operation = querying.page_with_count(self._spec, self.formula(), self._page)
        return Counted(*self._sync("page_with_count").run(operation))

    async def apage_with_count(self) -> Counted[M]:
        """`page_with_count`, on the model's asyncio client."""
        operation = querying.page_with_count(self._spec, self.formula(), self._page)
        return Counted(*(await self._async("apage_with_count").run(operation)))

    def count(self) -> int:
        """How many objects match (no object is fetched); offset and limit apply."""
        return self._sync("count").run(querying.count(self._spec, self.formula(), self._page))

    async def acount(self) -> int:
        """`count`, on the model's asyncio client."""
        return await self._async("acount").run(querying.count(self._spec, self.formula(), self._page))

    def exists(self) -> bool:
        """Whether any object matches."""
        return self._sync("exists").run(querying.exists(self._spec, self.formula(), self._page))

    async def aexists(self) -> bool:
        """`exists`, on the model's asyncio client."""
        return await self._async("aexists").run(querying.exists(self._spec, self.formula(), self._page))

    def pks(self) -> list[int]:
        """The primary keys of the matching objects, in the query's order."""
        return self._sync("pks").run(querying.pks(self._spec, self.formula(), self._page))

    async def apks(self) -> list[int]:
        """`pks`, on the model's asyncio client."""
        return await self._async("apks").run(querying.pks(self._spec, self.formula(), self._page))

    def delete(self) -> int:
        """Delete every matching object (atomically, with its index entries); returns how many."""
        return self._sync("delete").run(querying.delete_matching(self._spec, self.formula(), self._page))

    async def adelete(self) -> int:
        """`delete`, on the model's asyncio client."""
        operation = querying.delete_matching(self._spec, self.formula(), self._page)
        return await self._async("adelete").run(operation)

    def update(self, **values: Any) -> int:
        """Set fields of every matching object in one atomic step, indexes included; returns how many.

        Values are validated against the fields' types (`InvalidValue`) before anything is sent;
        model validators are not run. Setting a `Unique` field on more than one object, or to a
        value another object holds, raises `UniqueViolation` and writes nothing.
        """
        operation = querying.update_matching(self._spec, self.formula(), self._page, values)
        return self._sync("update").run(operation)

    async def aupdate(self, **values: Any) -> int:
        """`update`, on the model's asyncio client."""
        operation = querying.update_matching(self._spec, self.formula(), self._page, values)
        return await self._async("aupdate").run(operation)

    def iter(self, batch: int = 1000) -> Iterator[M]:
        """Stream the matching objects, ``batch`` at a time (bounded client memory).

        One round trip lists the matching pks (8 bytes each on the client), then each batch is
        fetched by pk. Objects deleted meanwhile are skipped; objects changed meanwhile come
        in their new state (pks are never reused, so nothing of another dataset slips in).
        """
        executor = self._sync("iter")
        found = executor.run(querying.stream_pks(self._spec, self.formula(), self._page, batch))
        for operation in querying.stream_chunks(self._spec, found, batch, None):
            yield from executor.run(operation)

    async def aiter(self, batch: int = 1000) -> AsyncIterator[M]:
        """`iter`, on the model's asyncio client: ``async for user in query.aiter(): ...``."""
        executor = self._async("aiter")
        found = await executor.run(querying.stream_pks(self._spec, self.formula(), self._page, batch))
        for operation in querying.stream_chunks(self._spec, found, batch, None):
            for obj in await executor.run(operation):
                yield obj

    # -- inspection ------------------------------------------------------------------------

    def formula(self) -> Formula | None:
        """The compiled condition (plain data) this query runs; None when provably empty.

        Parts that a compound index answers are replaced by a `CompoundScan` (see ``__indexes__``).
        """
        compounds = self._model.spec().compounds
        return use_compounds(compile_formula(self._where), compounds, self._page.order)

    def plan(self, action: Action = "fetch") -> dict[str, Any]:
        """How Redis would answer ``action`` on this query now, without running it (one read-only
        round trip): ``strategy`` (see the query strategies page) and the estimates behind it,
        ``matches`` (an upper bound), ``cost`` (the estimated server time, in units of about a
        microsecond, of a one-call answer; None when it cannot be answered in one call) and
        ``objects`` (of the model)."""
        return self._sync("plan").run(querying.plan(self._spec, self.formula(), action, self._page))

    async def aplan(self, action: Action = "fetch") -> dict[str, Any]:
        """`plan`, on the model's asyncio client."""
        return await self._async("aplan").run(querying.plan(self._spec, self.formula(), action, self._page))

    def explain(self) -> str:
        """The query's condition after normalisation, and its order and page."""
        text = explain(self.formula())
        page = self._page
        if page.order is not None:
            text += f"\norder: {page.order} {'descending' if page.descending else 'ascending'}"
        if page.offset or page.limit is not None:
            text += f"\npage: offset {page.offset}, limit {page.limit}"
        return text

    # -- internals -------------------------------------------------------------------------

    @property
    def _spec(self) -> ModelSpec[M]:
        return self._model.spec()

    def _sync(self, method: str) -> SyncExecutor:
        return sync_executor(self._model, method)

    def _async(self, method: str) -> AsyncExecutor:
        return async_executor(self._model, method)

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
                raise QueryError(f"unknown lookup {key!r}: use {name}=, {name}__ne=, {name}__in=, __lt= ...")
            if name not in self._model.spec().by_name:
                raise QueryError(f"{self._model.__qualname__} has no field {name!r}")
            field: Any = getattr(fields, name)
            if op in ("lt", "lte", "gt", "gte", "startswith") and not isinstance(field, SortedField):
                field.spec.require_sorted()
            if op == "in":
                parts.append(field.in_(value))
            elif op == "ne":
                parts.append(field != value)
            elif op == "lt":
                parts.append(field < value)
            elif op == "lte":
                parts.append(field <= value)
            elif op == "gt":
                parts.append(field > value)
            elif op == "gte":
                parts.append(field >= value)
            elif op == "startswith":
                parts.append(field.startswith(value))
            else:
                parts.append(field == value)
        return parts

    def __repr__(self) -> str:
        where = "" if self._where is None else repr(self._where)
        return f"<Query {self._model.__qualname__}.query({where})>"


MAX_COUNT = 2**53 - 1
"""The largest limit or offset: counts stay exact in the scripts' Lua numbers."""


def _count(method: str, count: object) -> int:
    if type(count) is not int or not 0 <= count <= MAX_COUNT:
        raise QueryError(f"{method}() takes an int from 0 to 2**53 - 1, got {short_repr(count)}")
    return count


class Projection(Generic[R]):
    """A query that fetches only some fields; its results are tuples of their values."""

    __slots__ = ("_fields", "_query")

    def __init__(self, query: Query[Any], fields: tuple[str, ...]) -> None:
        self._query = query
        self._fields = fields

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the fetched fields, in tuple order."""
        return self._fields

    def all(self) -> list[R]:
        """The tuples of every matching object, in the query's order."""
        query = self._query
        operation = querying.fetch_only(query._spec, query.formula(), query.page, self._fields)
        return query._sync("all").run(operation)

    async def aall(self) -> list[R]:
        """`all`, on the model's asyncio client."""
        query = self._query
        operation = querying.fetch_only(query._spec, query.formula(), query.page, self._fields)
        return await query._async("aall").run(operation)

    def first(self) -> R | None:
        """The tuple of the first matching object, or None."""
        query = self._query
        operation = querying.first_only(query._spec, query.formula(), query.page, self._fields)
        result: R | None = query._sync("first").run(operation)
        return result

    async def afirst(self) -> R | None:
        """`first`, on the model's asyncio client."""
        query = self._query
        operation = querying.first_only(query._spec, query.formula(), query.page, self._fields)
        result: R | None = await query._async("afirst").run(operation)
        return result

    def iter(self, batch: int = 1000) -> Iterator[R]:
        """Stream the tuples, ``batch`` objects at a time (see `Query.iter`)."""
        query = self._query
        executor = query._sync("iter")
        found = executor.run(querying.stream_pks(query._spec, query.formula(), query.page, batch))
        for operation in querying.stream_chunks(query._spec, found, batch, self._fields):
            yield from executor.run(operation)

    async def aiter(self, batch: int = 1000) -> AsyncIterator[R]:
        """`iter`, on the model's asyncio client."""
        query = self._query
        executor = query._async("aiter")
        found = await executor.run(querying.stream_pks(query._spec, query.formula(), query.page, batch))
        for operation in querying.stream_chunks(query._spec, found, batch, self._fields):
            for row in await executor.run(operation):
                yield row
