"""A value of the wrong type on a ``Sorted`` field (plain mypy sees ``SortedField[Event, Any]``)."""

from models import Event

# E: Field "Event.size" holds "int" values; cannot compare it with "str"  [typedredis-value]
a = Event.f.size < "x"
# E: Field "Event.at" holds "datetime" values; cannot compare it with "str"  [typedredis-value]
b = Event.f.at >= "2026-01-01"
# E: Field "Event.size" holds "int" values; cannot compare it with "None"  [typedredis-value]
c = Event.f.size <= None
