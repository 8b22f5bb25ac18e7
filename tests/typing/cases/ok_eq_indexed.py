"""``==`` on an indexed field is an expression of the model."""

from typing import assert_type, reveal_type

from models import User
from typedredis import Expr

expr = User.f.name == "bob"
reveal_type(expr)  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
assert_type(expr, Expr[User])
reveal_type(User.f.name)  # N: Revealed type is "typedredis.expr.Field[models.User, str]"
