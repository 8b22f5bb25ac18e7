"""Query builders chain and keep the model; ``Model.f`` works in comprehensions."""

from typing import reveal_type

from models import User

names = ["a", "b"]
exprs = [User.f.name == n for n in names]
reveal_type(exprs)  # N[all]: Revealed type is "list[typedredis.expr.Expr[models.User]]"
reveal_type(User.query(*exprs).filter(User.f.age == 3).first())  # N[all]: Revealed type is "models.User | None"
