"""A value on the left of ``<`` (Python calls the field's ``>``) is an expression too."""

from datetime import datetime
from typing import reveal_type

from models import Event

# N: Revealed type is "typedredis.expr.Expr[models.Event]"
# N[plain]: Revealed type is "typedredis.expr.Expr[models.Event]"
reveal_type(3 < Event.f.size)  # noqa: SIM300
Event.query(datetime(2026, 1, 1) <= Event.f.at, "M" > Event.f.title)  # noqa: SIM300


def window(low: int, high: int | None) -> list[Event]:
    if high is None:
        return Event.query(low < Event.f.size).all()  # noqa: SIM300
    return Event.query(low < Event.f.size, Event.f.size < high).all()  # noqa: SIM300
