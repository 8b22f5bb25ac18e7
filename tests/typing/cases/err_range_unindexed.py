"""``<`` on a field without any index: both missing indexes are reported."""

from models import Event

# E: "Event.note" is not indexed; annotate it as "note: Indexed[...]" to query it  [typedredis-index]
# E: "Event.note" has no range index; annotate it as "note: Sorted[...]" to use "<" on it  [typedredis-index]
expr = Event.f.note < "x"
