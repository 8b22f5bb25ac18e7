"""``get_by`` checks its value against the field (plain mypy does not)."""

from models import Event

# E: Field "Event.slug" holds "str" values; get_by() got "int"  [typedredis-value]
a = Event.get_by(Event.f.slug, 3)
# E: Field "Event.at" holds "datetime" values; get_by() got "str"  [typedredis-value]
b = Event.get_by(Event.f.at, "2026-01-01")
