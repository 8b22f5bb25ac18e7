"""``between``, ``startswith``, ``asc`` and ``desc`` need a range index too."""

from models import Event, User

# E: "User.age" has no range index; annotate it as "age: Sorted[...]" to use between() on it  [typedredis-index]
a = User.f.age.between(1, 9)
# E: "User.name" has no range index; annotate it as "name: Sorted[...]" to use startswith() on it  [typedredis-index]
b = User.f.name.startswith("a")
# E: "Event.kind" has no range index; annotate it as "kind: Sorted[...]" to order by it  [typedredis-index]
c = Event.query().order_by(Event.f.kind.desc())
# E: "Event.kind" has no range index; annotate it as "kind: Sorted[...]" to order by it  [typedredis-index]
d = Event.f.kind.asc()
