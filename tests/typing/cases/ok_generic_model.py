"""Generic models: the field type comes from the parametrized base."""

from typing import reveal_type

from models import IntBox

reveal_type(IntBox.f.item)  # N: Revealed type is "typedredis.expr.Field[models.IntBox, int]"
IntBox.query(IntBox.f.item == 3)
