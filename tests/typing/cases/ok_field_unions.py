"""Parameters typed with unions of fields: each member is checked (comparisons, ``in_``, ``get_by``)."""

from typing import reveal_type

from models import Event, Launch
from typedredis import Field, SortedField

EventInt = Field[Event, int] | SortedField[Event, int]
Sizes = SortedField[Event, int] | SortedField[Launch, int]


def either(field: EventInt, sized: Sizes) -> None:
    Event.query(field == 3, field != 4, field.in_([1, 2]))
    Launch.query(sized < 3, 3 < sized, 5 >= sized, sized.between(1, 2), sized == 5)  # noqa: SIM300
    Launch.query().order_by(sized)
    reveal_type(Event.query().only(field).all())  # N[all]: Revealed type is "list[tuple[int]]"
    reveal_type(Event.get_by(field, 3))  # N[all]: Revealed type is "models.Event"


def reflected(field: Field[Event, int] | Field[Launch, int]) -> None:
    # N: Revealed type is "typedredis.expr.Expr[models.Launch]"
    # N[plain]: Revealed type is "builtins.bool"
    reveal_type(3 == field)  # noqa: SIM300
