"""``between`` takes two values of the field's type; ``startswith`` a prefix of a ``Sorted[str]``."""

from datetime import datetime
from decimal import Decimal
from typing import reveal_type

from models import Event

reveal_type(Event.f.size.between(1, 9))  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
reveal_type(Event.f.title.startswith("Re"))  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
Event.query(Event.f.at.between(datetime(2026, 1, 1), datetime.now()), Event.f.price.between(Decimal(1), None))
Event.query(Event.f.label.startswith("x"))  # a Sorted[str | None] field
