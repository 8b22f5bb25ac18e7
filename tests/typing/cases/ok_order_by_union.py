"""``order_by`` takes a union of ``Sorted`` fields and orderings of the query's model (or of a base)."""

from typing import Any, reveal_type

from models import Event, Launch
from typedredis import Ordering, SortedField
from typedredis.query import OrderKey


def newest(key: SortedField[Event, Any] | Ordering[Event]) -> list[Event]:
    return Event.query(Event.f.kind == "x").order_by(key).all()


def by_either(key: SortedField[Event, int] | SortedField[Event, str]) -> list[Event]:
    return Event.query().order_by(key).all()


def launches(key: SortedField[Event, int] | SortedField[Launch, int] | Ordering[Event]) -> list[Launch]:
    return Launch.query().order_by(key).all()


def either_ordering(key: Ordering[Event] | Ordering[Launch]) -> list[Launch]:
    return Launch.objects.order_by(key).all()


def maybe_ordered(key: SortedField[Event, Any] | Ordering[Event] | None) -> list[Event]:
    query = Event.query()
    if key is not None:
        query = query.order_by(key)
    return query.all()


def forwarded(key: OrderKey[Event] | Ordering[Event]) -> list[Launch]:
    """The parameter type of ``order_by`` itself (a base model's keys order a subclass)."""
    return Launch.query().order_by(key).all()


def any_key(key: Any) -> list[Event]:
    return Event.query().order_by(key).all()


keys: list[SortedField[Event, int] | SortedField[Event, str] | Ordering[Event]] = [
    Event.f.size,
    Event.f.title,
    Event.f.at.desc(),
]
for key in keys:
    reveal_type(Event.query().order_by(key))  # N[all]: Revealed type is "typedredis.query.Query[models.Event]"
newest(Event.f.at)
newest(Event.f.size.desc())
launches(Launch.f.pad)
forwarded(Event.f.size)
