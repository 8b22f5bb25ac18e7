"""A ``Unique`` field has no range index; the fix keeps it unique."""

from models import Event

# E: "Event.slug" has no range index; annotate it as "slug: Annotated[..., UNIQUE, RANGE]" to use ">" on it  [typedredis-index]
expr = Event.f.slug > "a"
# E: "Event.slug" has no range index; annotate it as "slug: Annotated[..., UNIQUE, RANGE]" to order by it  [typedredis-index]
Event.query().order_by(Event.f.slug)
