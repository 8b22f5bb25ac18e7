"""A limit of ``Expr.__and__``: with the base-model expression first, a subclass one is refused.

At runtime both orders work; put the subclass's expression first (or pass both to ``query()``).
"""

from models import Admin, User

# E[all]: Unsupported operand types for & ("Expr[User]" and "Expr[Admin]")  [operator]
expr = (User.f.name == "a") & (Admin.f.level == 1)
Admin.query(User.f.name == "a", Admin.f.level == 1)
