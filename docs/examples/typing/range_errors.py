"""Mistakes with range indexes, ordering and get_by."""

from datetime import datetime

from models import Event, User

# error: "User.name" has no range index;
#        annotate it as "name: Sorted[...]" to use "<" on it  [typedredis-index]
User.query(User.f.name < "m")

# error: "Event.kind" has no range index;
#        annotate it as "kind: Sorted[...]" to order by it  [typedredis-index]
Event.query().order_by(Event.f.kind)

# error: Field "Event.size" holds "int" values; cannot compare it with "str"  [typedredis-value]
Event.query("10" <= Event.f.size)  # noqa: SIM300

# error: Field "Event.at" holds "datetime" values; between() got "str"  [typedredis-value]
Event.query(Event.f.at.between(datetime(2026, 1, 1), "2026-12-31"))

# error: Field "Event.size" holds "int" values; startswith() needs a "Sorted[str]" field  [typedredis-value]
Event.query(Event.f.size.startswith("1"))

# error: A chained comparison with a field is not a query;
#        use between(), or "&" between two comparisons  [typedredis-query]
Event.query(1 <= Event.f.size < 10)

# error: Field "Event.slug" holds "str" values; get_by() got "int"  [typedredis-value]
Event.get_by(Event.f.slug, 42)

# error: Argument 1 to "order_by" of "Query" has incompatible type "SortedField[User, date]";
#        expected a Sorted field of "Event" (or of a base model) or its asc()/desc()  [arg-type]
Event.query().order_by(User.f.joined)
