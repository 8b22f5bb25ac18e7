"""``&``, ``|`` and ``~`` keep the model."""

from typing import reveal_type

from models import User

expr = ((User.f.name == "a") & (User.f.age == 3)) | ~(User.f.nick == None)
reveal_type(expr)  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
User.query(expr).all()
