"""A value of the wrong type compared with a field (plain mypy sees ``Field[User, Any]``)."""

from models import User

expr = User.f.name == 3  # E: Field "User.name" holds "str" values; cannot compare it with "int"  [typedredis-value]
