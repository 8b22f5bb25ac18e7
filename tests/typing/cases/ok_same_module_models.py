"""Models and queries in one module; ``typing_extensions.Annotated`` works like typing's."""

from typing import reveal_type

from typing_extensions import Annotated

from typedredis import EQ, Indexed, Model


class Tag(Model, key="tags"):
    label: Indexed[str]
    weight: Annotated[float, EQ] = 1.0


reveal_type(Tag.query(Tag.f.label == "x", Tag.f.weight == 2.0).first())  # N[all]: Revealed type is "ok_same_module_models.Tag | None"
reveal_type(Tag.f.weight)  # N: Revealed type is "typedredis.expr.Field[ok_same_module_models.Tag, float]"
