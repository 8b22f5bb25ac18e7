"""A reflected ``<`` on an ``Indexed`` field is reported, and does not become a ``bool``."""

from typing import reveal_type

from models import User

# E: "User.name" has no range index; annotate it as "name: Sorted[...]" to use "<" on it  [typedredis-index]
# N: Revealed type is "Any"
# N[plain]: Revealed type is "typedredis.expr.Expr[models.User]"
reveal_type("x" < User.f.name)  # noqa: SIM300
# E: "User.age" has no range index; annotate it as "age: Sorted[...]" to use ">=" on it  [typedredis-index]
User.query(3 >= User.f.age)  # noqa: SIM300
