"""A generic model's ``Sorted[T]`` field has the subclass's type argument."""

from typing import reveal_type

from models import IntSortedBox

reveal_type(IntSortedBox.f.item)  # N: Revealed type is "typedredis.expr.SortedField[models.IntSortedBox, int]"
IntSortedBox.query(IntSortedBox.f.item.between(1, 2)).order_by(IntSortedBox.f.item)
