"""A field passed as a parameter is checked without knowing its name."""

from models import User
from typedredis import Field


def wrong(field: Field[User, int]) -> None:
    field == "s"  # E: A field of "User" holds "int" values; cannot compare it with "str"  [typedredis-value]


wrong(User.f.name)  # E: Argument 1 to "wrong" has incompatible type "Field[User, str]"; expected "Field[User, int]"  [arg-type]
