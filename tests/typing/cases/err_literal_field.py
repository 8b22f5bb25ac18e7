"""A literal outside the field's Literal type."""

from models import User

# E: Field "User.status" holds "Literal['active', 'banned']" values; cannot compare it with "str"  [typedredis-value]
expr = User.f.status == "deleted"
