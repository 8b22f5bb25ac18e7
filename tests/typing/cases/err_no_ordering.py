"""``<`` on a field without a range index: the error says how to add one (plain mypy accepts it)."""

from models import User

# E: "User.name" has no range index; annotate it as "name: Sorted[...]" to use "<" on it  [typedredis-index]
expr = User.f.name < "x"
