"""``a < field < b`` is ``(a < field) and (field < b)``: the truth value of an expression raises."""

from models import Event

# E: A chained comparison with a field is not a query; use between(), or "&" between two comparisons  [typedredis-query]
Event.query(1 < Event.f.size <= 10)
