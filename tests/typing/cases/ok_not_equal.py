"""``!=`` builds an expression too."""

from typing import reveal_type

from models import User

reveal_type(User.f.name != "x")  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
User.query(User.f.name != "x", User.f.nick != None)
