"""``startswith`` needs a ``Sorted[str]`` field."""

from models import Event

# E: Field "Event.size" holds "int" values; startswith() needs a "Sorted[str]" field  [typedredis-value]
a = Event.f.size.startswith("1")
# E: Field "Event.price" holds "Decimal | None" values; startswith() needs a "Sorted[str]" field  [typedredis-value]
b = Event.f.price.startswith("1")
# E[all]: Argument 1 to "startswith" of "SortedField" has incompatible type "int"; expected "str"  [arg-type]
c = Event.f.title.startswith(1)
