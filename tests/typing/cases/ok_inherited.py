"""Fields inherited from a base model are typed from the base."""

from typing import reveal_type

from models import Admin

reveal_type(Admin.f.name)  # N: Revealed type is "typedredis.expr.Field[models.Admin, str]"
reveal_type(Admin.f.level == 3)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Admin]"
reveal_type(Admin.query(Admin.f.nick == None).all())  # N[all]: Revealed type is "list[models.Admin]"
