"""A union passed to ``order_by`` is refused when one of its members is: another model's field
or ordering, or a field without a range index."""

from typing import Any

from models import Article, Event, Launch
from typedredis import Field, Ordering, SortedField


def other_field(key: SortedField[Article, Any] | Ordering[Event]) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Article, Any] | Ordering[Event]"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Article, Any] | Ordering[Event]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)


def other_ordering(key: SortedField[Event, Any] | Ordering[Article]) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | Ordering[Article]"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | Ordering[Article]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)


def subclass_field(key: SortedField[Event, int] | SortedField[Launch, int]) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, int] | SortedField[Launch, int]"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, int] | SortedField[Launch, int]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)


def not_sorted(key: Field[Event, str] | Ordering[Event], either: Field[Event, str] | SortedField[Event, int]) -> None:
    # E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[Event, str] | Ordering[Event]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)
    # E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[Event, str] | SortedField[Event, int]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(either)


def optional(key: SortedField[Event, Any] | None) -> None:
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | None"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[Event, Any] | None"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(key)
