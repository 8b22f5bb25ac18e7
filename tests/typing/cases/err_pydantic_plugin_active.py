"""A check only ``pydantic.mypy`` makes: proves pydantic's plugin runs beside ours."""

from typedredis import Indexed, Model


class Untyped(Model):
    name: Indexed[str]
    extra = 3  # E[pydantic]: Untyped fields disallowed  [pydantic-field]
