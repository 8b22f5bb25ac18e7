"""A limit of plain mypy: a reflected comparison is a ``bool``, so ``query()`` rejects it."""

from models import User

# E[plain]: Argument 1 to "query" of "Model" has incompatible type "bool"; expected "Expr[User]"  [arg-type]
User.query("bob" == User.f.name)
