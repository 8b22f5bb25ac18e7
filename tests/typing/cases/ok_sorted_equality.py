"""A field that is only ``Sorted`` still supports ``==``, ``!=`` and ``in_`` (either order)."""

from typing import reveal_type

from models import Event

reveal_type(Event.f.size == 3)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"
Event.query(Event.f.title != "x", Event.f.size.in_([1, 2]))
