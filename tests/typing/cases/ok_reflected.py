"""``"bob" == User.f.name`` is the same expression as ``User.f.name == "bob"``.

Without the plugin it is a ``bool``: mypy tries ``str.__eq__`` first, which accepts any object.
"""

from typing import reveal_type

from models import User

reveal_type("bob" == User.f.name)  # N: Revealed type is "typedredis.expr.Expr[models.User]"  # N[plain]: Revealed type is "builtins.bool"
reveal_type("bob" != User.f.name)  # N: Revealed type is "typedredis.expr.Expr[models.User]"
