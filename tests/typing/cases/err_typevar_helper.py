"""``type[M]`` helpers: fields are looked up on the bound of M."""

from typing import TypeVar

from models import User
from typedredis import Model

M = TypeVar("M", bound=User)
AnyModel = TypeVar("AnyModel", bound=Model)


def named(model: type[M], name: int) -> list[M]:
    return model.query(model.f.name == name).all()  # E: Field "M.name" holds "str" values; cannot compare it with "int"  [typedredis-value]


def anything(model: type[AnyModel]) -> None:
    model.query(model.f.name == "x")  # E: "Model" has no field "name"  [typedredis-field]
