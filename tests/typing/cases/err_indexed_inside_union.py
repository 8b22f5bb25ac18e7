"""``Indexed[str] | None`` is not indexed (pydantic drops the marker); the note says why."""

from models import User

# E: "User.maybe" is not indexed; annotate it as "maybe: Indexed[...]" to query it  [typedredis-index]
# N: Only an outermost marker indexes a field: write "maybe: Indexed[X | None]"
expr = User.f.maybe == "x"
