"""Correct queries, and the types mypy infers for them."""

from typing import reveal_type

from models import User

reveal_type(User.f.name)  # note: Revealed type is "typedredis.expr.Field[models.User, str]"
reveal_type(User.f.name == "ann")  # note: Revealed type is "typedredis.expr.Expr[models.User]"

adults = User.query(User.f.age.in_(range(18, 120)), User.f.email != None)  # noqa: E711
reveal_type(adults.all())  # note: Revealed type is "list[models.User]"
reveal_type(adults.first())  # note: Revealed type is "models.User | None"
reveal_type(User.get(1))  # note: Revealed type is "models.User"

# Either operand order builds the same expression.
same = User.query("ann" == User.f.name)  # noqa: SIM300
