"""``in_(3)``: not an iterable at all."""

from models import User

# E: Field "User.age" holds "int" values; in_() got "int"  [typedredis-value]
# E[plain]: Argument 1 to "in_" of "Field" has incompatible type "int"; expected "Iterable[Any]"  [arg-type]
expr = User.f.age.in_(3)
