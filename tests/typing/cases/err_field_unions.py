"""A union of fields is checked member by member: a wrong value, another model, no range index."""

from models import Event, User
from typedredis import Field, SortedField


def mixed(field: Field[Event, int] | Field[Event, str], either: Field[Event, int] | SortedField[Event, int]) -> None:
    # E: A field of "Event" holds "str" values; cannot compare it with "int"  [typedredis-value]
    # N: Left operand is of type "Field[Event, int] | Field[Event, str]"
    # E[plain]: Argument 1 to "query" of "Model" has incompatible type "Expr[Event] | bool"; expected "Expr[Event]"  [arg-type]
    Event.query(field == 3)
    # E: A field of "Event" holds "str" values; in_() got "list[int]"  [typedredis-value]
    # E[plain]: List item 0 has incompatible type "int"; expected "str"  [list-item]
    Event.query(field.in_([3]))
    # E: "Field[Event, int]" has no range index; only a field declared "Sorted[...]" can use "<"  [typedredis-index]
    # N: Left operand is of type "Field[Event, int] | SortedField[Event, int]"
    # E[plain]: Unsupported operand types for > ("int" and "Field[Event, int]")  [operator]
    # N[plain]: Left operand is of type "Field[Event, int] | SortedField[Event, int]"
    # E[plain]: Argument 1 to "query" of "Model" has incompatible type "bool | Expr[Event]"; expected "Expr[Event]"  [arg-type]
    Event.query(either < 3)
    # E: A field of "Event" holds "int" values; get_by() got "str"  [typedredis-value]
    # E[plain,mypy>=1.18]: Cannot infer value of type parameter "T" of "get_by" of "Model"  [misc]
    # E[plain,mypy<1.18]: Cannot infer type argument 1 of "get_by" of "Model"  [misc]
    Event.get_by(either, "3")


def other_model(field: Field[Event, int] | Field[User, int]) -> None:
    # E[all]: Argument 1 to "query" of "Model" has incompatible type "Expr[Event] | Expr[User]"; expected "Expr[Event]"  [arg-type]
    Event.query(field == 3)
