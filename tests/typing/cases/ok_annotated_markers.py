"""``Annotated[T, EQ]``, nested ``Annotated`` and ``typedredis.Indexed`` all index a field."""

from typing import reveal_type

from models import User

reveal_type(User.f.email == "a")  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
reveal_type(User.f.code)  # N: Revealed type is "typedredis.expr.Field[models.User, str]"
reveal_type(User.f.team)  # N: Revealed type is "typedredis.expr.Field[models.User, int]"
