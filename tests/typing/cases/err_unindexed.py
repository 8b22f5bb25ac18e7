"""A stored field without an index cannot be queried; the error says how to index it."""

from models import User

# E: "User.bio" is not indexed; annotate it as "bio: Indexed[...]" to query it  [typedredis-index]
expr = User.f.bio == "x"
