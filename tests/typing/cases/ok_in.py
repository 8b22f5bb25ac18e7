"""``in_()`` accepts any iterable of the field's type, empty ones included."""

from typing import reveal_type

from models import User

reveal_type(User.f.name.in_(["a", "b"]))  # N[all]: Revealed type is "typedredis.expr.Expr[models.User]"
User.query(User.f.age.in_(range(3)), User.f.age.in_({1, 2}), User.f.name.in_([]))
User.query(User.f.age.in_(n * 2 for n in range(3)), User.f.name.in_(("a",)))
