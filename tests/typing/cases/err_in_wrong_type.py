"""``in_()`` takes values of the field's type."""

from models import User

expr = User.f.name.in_([1, 2])  # E: Field "User.name" holds "str" values; in_() got "list[int]"  [typedredis-value]
