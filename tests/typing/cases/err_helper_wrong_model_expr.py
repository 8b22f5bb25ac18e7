"""A generic helper cannot be handed an expression on another model."""

from typing import TypeVar

from models import Post, User
from typedredis import Expr, Model

M = TypeVar("M", bound=Model)


def first_match(model: type[M], *where: Expr[M]) -> M | None:
    return model.query(*where).first()


# E[all,mypy>=1.18]: Cannot infer value of type parameter "M" of "first_match"  [misc]
# E[all,mypy<1.18]: Cannot infer type argument 1 of "first_match"  [misc]
first_match(User, Post.f.title == "x")
