"""Several markers on one field add up, as at runtime: a range index makes it a ``SortedField``."""

from typing import reveal_type

from models import Event

reveal_type(Event.f.code)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, str]"
reveal_type(Event.f.rank)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, int]"
reveal_type(Event.f.label)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, str | None]"
reveal_type(Event.get_by(Event.f.code, "x"))  # N[all]: Revealed type is "models.Event"
Event.query(Event.f.code >= "a", Event.f.rank == 3, Event.f.label.startswith("x")).order_by(Event.f.code)
