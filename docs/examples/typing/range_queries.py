"""Correct range queries, ordering and projections, and the types mypy infers for them."""

from datetime import datetime
from typing import reveal_type

from models import Event

# note: Revealed type is "typedredis.expr.SortedField[models.Event, datetime.datetime]"
reveal_type(Event.f.at)
reveal_type(Event.f.slug)  # note: Revealed type is "typedredis.expr.Field[models.Event, str]"

recent = Event.query(Event.f.kind == "talk", Event.f.at >= datetime(2026, 1, 1), Event.f.title > "M")
page = recent.order_by(Event.f.at.desc()).limit(20).offset(40)
reveal_type(page.all())  # note: Revealed type is "list[models.Event]"
items, total = page.page_with_count()  # the page, and how many match in all
reveal_type(items)  # note: Revealed type is "list[models.Event]"
reveal_type(total)  # note: Revealed type is "int"
# note: Revealed type is "list[tuple[str, datetime.datetime]]"
reveal_type(page.only(Event.f.title, Event.f.at).all())
reveal_type(Event.get_by(Event.f.slug, "launch"))  # note: Revealed type is "models.Event"
for event in recent.iter(batch=1000):
    reveal_type(event)  # note: Revealed type is "models.Event"
