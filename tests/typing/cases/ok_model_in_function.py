"""A model class defined inside a function is analysed too."""

from typing import reveal_type

from typedredis import Indexed, Model


def make() -> None:
    class Local(Model):
        x: Indexed[int]

    reveal_type(Local.f.x == 1)  # N[all]: Revealed type is "typedredis.expr.Expr[ok_model_in_function.Local@9]"
