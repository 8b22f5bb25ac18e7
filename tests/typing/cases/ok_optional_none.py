"""A field declared ``Indexed[str | None]`` can be compared with None."""

from typing import reveal_type

from models import User

reveal_type(User.f.nick == None)  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
User.query(User.f.nick == "x", User.f.nick != None)
User.query(User.f.nick.in_([None, "a"]))
