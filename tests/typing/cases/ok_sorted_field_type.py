"""``Model.f.<sorted field>`` is a ``SortedField``; indexed and unique fields stay ``Field``."""

from typing import reveal_type

from models import Event

reveal_type(Event.f.size)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, int]"
reveal_type(Event.f.at)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, datetime.datetime]"
reveal_type(Event.f.price)  # N: Revealed type is "typedredis.expr.SortedField[models.Event, decimal.Decimal | None]"
# N: Revealed type is "typedredis.expr.Field[models.Event, str]"
# N[plain]: Revealed type is "typedredis.expr.SortedField[models.Event, Any]"
reveal_type(Event.f.kind)  # without the plugin, every field is the loose SortedField[Model, Any]
reveal_type(Event.f.slug)  # N: Revealed type is "typedredis.expr.Field[models.Event, str]"
