"""``order_by`` takes a field, not its name (use ``.objects.order_by`` with a field too)."""

from models import Event

# E: Argument 1 to "order_by" of "Query" has incompatible type "str"; expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
# E[plain]: Argument 1 to "order_by" of "Query" has incompatible type "str"; expected "OrderKey[Event] | Ordering[Event]"  [arg-type]
a = Event.query().order_by("at")
