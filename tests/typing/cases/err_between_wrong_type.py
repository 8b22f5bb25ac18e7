"""Both ends of ``between`` must have the field's type."""

from models import Event

# E: Field "Event.size" holds "int" values; between() got "str"  [typedredis-value]
a = Event.f.size.between(1, "x")
# E: Field "Event.title" holds "str" values; between() got "int"  [typedredis-value]
b = Event.f.title.between(0, "z")
