"""Annotated field variables and parameters: another model's field, or a field without a range
index, is refused as it is for ``Model.f.<name>`` (the messages cannot name the field)."""

from typing import TypeVar

from models import Event, User
from typedredis import Field, Model, SortedField

M = TypeVar("M", bound=Model)
T = TypeVar("T")

kind: Field[Event, str] = Event.f.kind
size: SortedField[Event, int] = Event.f.size
# E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can use "<"  [typedredis-index]
# E[plain]: Unsupported operand types for > ("str" and "Field[Event, str]")  [operator]
# E[plain]: Argument 1 to "query" of "Model" has incompatible type "bool"; expected "Expr[Event]"  [arg-type]
Event.query(kind < "x")
# E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
# E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[Event, str]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
Event.query().order_by(kind)
# E: A field of "Event" holds "int" values; cannot compare it with "str"  [typedredis-value]
# E[plain]: Argument 1 to "query" of "Model" has incompatible type "bool"; expected "Expr[Event]"  [arg-type]
Event.query(size == "3")
# E: A field of "Event" holds "int" values; get_by() got "str"  [typedredis-value]
# E[plain,mypy>=1.18]: Cannot infer value of type parameter "T" of "get_by" of "Model"  [misc]
# E[plain,mypy<1.18]: Cannot infer type argument 1 of "get_by" of "Model"  [misc]
Event.get_by(size, "3")
# E[all]: Argument 1 to "query" of "Model" has incompatible type "Expr[Event]"; expected "Expr[User]"  [arg-type]
User.query(kind == "x")
# E[all]: Argument 1 to "get_by" of "Model" has incompatible type "Field[Event, str]"; expected "Field[User, str]"  [arg-type]
User.get_by(kind, "x")


class Keys:
    """Fields held in attributes: the messages do not take the attribute for a field name."""

    group: Field[Event, str]
    span: SortedField[Event, int]


def held(keys: Keys) -> None:
    # E: "Field[Event, str]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[Event, str]"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
    Event.query().order_by(keys.group)
    # E: A field of "Event" holds "int" values; between() got "str"  [typedredis-value]
    # E[plain]: Argument 1 to "between" of "SortedField" has incompatible type "str"; expected "int"  [arg-type]
    Event.query(keys.span.between("1", 2))
    # E: A field of "Event" holds "str" values; get_by() got "int"  [typedredis-value]
    # E[plain,mypy>=1.18]: Cannot infer value of type parameter "T" of "get_by" of "Model"  [misc]
    # E[plain,mypy<1.18]: Cannot infer type argument 1 of "get_by" of "Model"  [misc]
    Event.get_by(keys.group, 3)


def generic(model: type[M], field: Field[M, T], value: T) -> None:
    # (mypy's own error: neither a plain field nor an unbounded T has an order operator)
    # E[all]: Unsupported left operand type for < ("Field[M, T]")  [operator]
    model.query(field < value)
    # E: "Field[M, T]" has no range index; only a field declared "Sorted[...]" can order by it  [typedredis-index]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "Field[M, T]"; expected "OrderKey[M] | Ordering[M]"  [arg-type]
    model.query().order_by(field)


def other_model(model: type[M], field: SortedField[User, T], value: T) -> None:
    # E[all]: Argument 1 to "query" of "Model" has incompatible type "Expr[User]"; expected "Expr[M]"  [arg-type]
    model.query(field == value)
    # E: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[User, T]"; expected a Sorted field of "M" (or of a base model) or its asc()/desc()  [arg-type]
    # E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[User, T]"; expected "OrderKey[M] | Ordering[M]"  [arg-type]
    model.query().order_by(field)
