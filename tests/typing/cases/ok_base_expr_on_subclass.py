"""``Expr`` is contravariant: an expression on a base model can query a subclass."""

from typing import reveal_type

from models import Admin, User

reveal_type(Admin.query(User.f.name == "x").all())  # N[all]: Revealed type is "list[models.Admin]"
