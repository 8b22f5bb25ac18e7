"""A subclass that re-declares a field without the index cannot query it."""

from models import Guest

# E: "Guest.name" is not indexed; annotate it as "name: Indexed[...]" to query it  [typedredis-index]
expr = Guest.f.name == "x"
