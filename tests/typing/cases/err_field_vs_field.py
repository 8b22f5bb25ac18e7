"""Comparing two fields is not a query."""

from models import User

# E: Field "User.name" holds "str" values; cannot compare it with "Field[User, str]"  [typedredis-value]
expr = User.f.name == User.f.name
