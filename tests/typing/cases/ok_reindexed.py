"""A sub-subclass can index the field again; other inherited fields stay indexed."""

from typing import reveal_type

from models import Guest, Member

reveal_type(Member.f.name == "x")  # N[all]: Revealed type is "typedredis.expr.Expr[models.Member]"
reveal_type(Guest.f.age == 3)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Guest]"
