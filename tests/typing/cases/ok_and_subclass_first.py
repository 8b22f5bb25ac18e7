"""``&`` of a subclass expression and a base-model one is an expression on the subclass."""

from typing import reveal_type

from models import Admin, User

reveal_type((Admin.f.level == 1) & (User.f.name == "a"))  # N[all]: Revealed type is "typedredis.expr.Expr[models.Admin]"
