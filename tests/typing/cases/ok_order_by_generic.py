"""``order_by`` in helpers generic over the model, and with a key typed by a bounded TypeVar."""

from typing import Any, TypeVar, reveal_type

from models import Event, Launch
from typedredis import Model, Ordering, SortedField

M = TypeVar("M", bound=Model)
T = TypeVar("T")
E = TypeVar("E", bound=Event)
K = TypeVar("K", bound=SortedField[Event, Any])


def ordered(model: type[M], key: SortedField[M, T] | Ordering[M]) -> list[M]:
    return model.query().order_by(key).all()


def ordered_by_base(model: type[E], key: SortedField[Event, Any] | Ordering[Event]) -> list[E]:
    return model.query().order_by(key).order_by(Event.f.at).all()


def by_key(key: K) -> list[Event]:
    return Event.query().order_by(key).all()


def by_key_or_ordering(key: K | Ordering[Event]) -> list[Launch]:
    return Launch.query().order_by(key).all()


reveal_type(ordered(Event, Event.f.at))  # N[all]: Revealed type is "list[models.Event]"
reveal_type(ordered(Launch, Launch.f.pad.desc()))  # N[all]: Revealed type is "list[models.Launch]"
reveal_type(ordered_by_base(Launch, Event.f.size))  # N[all]: Revealed type is "list[models.Launch]"
by_key(Event.f.title)
