"""Each order operator on an ``Indexed`` field, whatever the value's type."""

from models import Event, User

# E: "User.name" has no range index; annotate it as "name: Sorted[...]" to use "<=" on it  [typedredis-index]
a = User.f.name <= "x"
# E: "User.age" has no range index; annotate it as "age: Sorted[...]" to use ">" on it  [typedredis-index]
b = User.f.age > 3
# E: "User.age" has no range index; annotate it as "age: Sorted[...]" to use ">=" on it  [typedredis-index]
c = User.f.age >= "3"
# E: "Event.kind" has no range index; annotate it as "kind: Sorted[...]" to use "<" on it  [typedredis-index]
d = Event.f.kind < None
