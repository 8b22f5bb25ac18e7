"""A model class defined inside a function is checked too."""

from typedredis import Indexed, Model


def make() -> None:
    class Local(Model):
        x: Indexed[int]

    expr = Local.f.x == "s"  # E: Field "Local.x" holds "int" values; cannot compare it with "str"  [typedredis-value]
    Local.query(expr)
