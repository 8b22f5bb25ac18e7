"""``type[M]`` generic helpers keep the model type through the query."""

from typing import TypeVar, reveal_type

from models import Admin, User
from typedredis import Expr, Model

M = TypeVar("M", bound=User)
AnyModel = TypeVar("AnyModel", bound=Model)


def named(model: type[M], name: str) -> list[M]:
    reveal_type(model.f.name)  # N: Revealed type is "typedredis.expr.Field[M, str]"
    return model.query(model.f.name == name).all()


def first_match(model: type[AnyModel], *where: Expr[AnyModel]) -> AnyModel | None:
    return model.query(*where).first()


reveal_type(named(Admin, "x"))  # N[all]: Revealed type is "list[models.Admin]"
reveal_type(first_match(Admin, Admin.f.level == 1))  # N[all]: Revealed type is "models.Admin | None"
