"""``<``, ``<=``, ``>``, ``>=`` on a ``Sorted`` field build expressions of its model."""

from datetime import datetime
from decimal import Decimal
from typing import reveal_type

from models import Event

reveal_type(Event.f.size < 3)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
reveal_type(Event.f.at >= datetime(2026, 1, 1))  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
big = Event.query(Event.f.size >= 10, Event.f.size <= 100, Event.f.title > "M", Event.f.price < Decimal("9.5"))
reveal_type(big.all())  # N[all]: Revealed type is "list[models.Event]"
reveal_type(Event.f.price > None)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
