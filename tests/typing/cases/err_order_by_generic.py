"""``order_by`` in generic helpers: a key of another model, or of a TypeVar bounded by one, is refused."""

from typing import Any, TypeVar

from models import Article, Event
from typedredis import Field, Model, Ordering, SortedField

M = TypeVar("M", bound=Model)
T = TypeVar("T")
A = TypeVar("A", bound=SortedField[Article, Any])
F = TypeVar("F", bound=Field[Event, str])


def fixed_key(model: type[M], key: SortedField[Event, Any] | Ordering[Event]) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | Ordering[Event]"; expected a Sorted field of "M" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | Ordering[Event]"; expected "OrderKey[M] | Ordering[M]"  [arg-type]
    model.query().order_by(key)


def plain_field(model: type[M], key: Field[M, T] | Ordering[M]) -> None:
    # E: "Field[M, T]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[M, T] | Ordering[M]"; expected "OrderKey[M] | Ordering[M]"  [arg-type]
    model.query().order_by(key)


def other_bound(key: A) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "A"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "A"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)


def unsorted_bound(key: F) -> None:
    # E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "F"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)
