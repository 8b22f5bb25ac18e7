"""``order_by`` takes a ``Sorted`` field or its ``asc()`` / ``desc()``; pages keep the model type."""

from typing import reveal_type

from models import Event
from typedredis import Ordering

newest = Event.query(Event.f.kind == "talk").order_by(Event.f.at.desc()).limit(20).offset(40)
reveal_type(newest)  # N[all]: Revealed type is "typedredis.query.Query[models.Event]"
reveal_type(newest.all())  # N[all]: Revealed type is "list[models.Event]"
reveal_type(Event.f.at.asc())  # N[all]: Revealed type is "typedredis.expr.Ordering[models.Event]"
by_size = Event.objects.filter(kind="talk").order_by(Event.f.size).first()
reveal_type(by_size)  # N[all]: Revealed type is "models.Event | None"


def ordered(key: Ordering[Event]) -> list[Event]:
    return Event.query().order_by(key).all()
