"""``pk`` is the key, not a queryable field."""

from models import User

# E: "User" has no field "pk"  [typedredis-field]
# N: "pk" is the primary key: use User.get(pk) to fetch by it
expr = User.f.pk == 1
