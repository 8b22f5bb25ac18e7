"""A field kept in a variable or passed to a function stays typed."""

from typing import reveal_type

from models import User
from typedredis import Expr, Field


def equals(field: Field[User, str], value: str) -> Expr[User]:
    return field == value


name = User.f.name
reveal_type(name)  # N: Revealed type is "typedredis.expr.Field[models.User, str]"
User.query(equals(User.f.name, "x"), name == "y")
