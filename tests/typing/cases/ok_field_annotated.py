"""Variables and parameters annotated ``Field[M, T]`` / ``SortedField[M, T]`` work like ``Model.f.<name>``."""

from typing import TypeVar, reveal_type

from models import Event
from typedredis import Expr, Field, Model, SortedField

M = TypeVar("M", bound=Model)
T = TypeVar("T")

kind: Field[Event, str] = Event.f.kind
size: SortedField[Event, int] = Event.f.size
Event.query(kind == "talk", kind != "x", kind.in_(["a", "b"]))
reveal_type("talk" == kind)  # N: Revealed type is "typedredis.expr.Expr[models.Event]"  # N[plain]: Revealed type is "builtins.bool"
Event.query(size < 3, size >= 1, 3 < size, size.between(1, 9), size == 4, size.in_([1, 2]))
Event.query().order_by(size).order_by(size.desc())
reveal_type(Event.query().only(kind, size).all())  # N[all]: Revealed type is "list[tuple[str, int]]"
reveal_type(Event.get_by(kind, "talk"))  # N[all]: Revealed type is "models.Event"
Event.get_by(size, 3)


def matching(model: type[M], field: Field[M, T], value: T, values: list[T]) -> list[M]:
    return model.query(field == value, field != value, field.in_(values)).all()


def in_window(model: type[M], field: SortedField[M, T], low: T, high: T) -> list[M]:
    query = model.query(field >= low, field < high, field.between(low, high), field == low)
    return query.order_by(field).order_by(field.asc()).all()


def values_of(model: type[M], field: Field[M, T]) -> list[tuple[T]]:
    return model.query().only(field).all()


def lookup(model: type[M], field: Field[M, T], value: T) -> M:
    return model.get_by(field, value)


def on_event(field: SortedField[Event, int], value: int) -> Expr[Event]:
    return (field > value) & (value <= field) & (field == value)


reveal_type(matching(Event, Event.f.kind, "talk", ["a"]))  # N[all]: Revealed type is "list[models.Event]"
reveal_type(in_window(Event, Event.f.size, 1, 9))  # N[all]: Revealed type is "list[models.Event]"
reveal_type(values_of(Event, Event.f.title))  # N: Revealed type is "list[tuple[str]]"
reveal_type(lookup(Event, Event.f.slug, "x"))  # N[all]: Revealed type is "models.Event"
