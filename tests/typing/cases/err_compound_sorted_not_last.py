"""A field with only a range index (``Sorted``) can only be the last field of a compound index."""

from typing import Annotated, Any, ClassVar

from typedredis import RANGE, Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    placed: Annotated[int, RANGE] = 0
    __indexes__: ClassVar[Any] = (
        # E: "Order.amount" has no equality index, so it can only be the last field of a compound index;
        #   move it last, or annotate it as "amount: Sorted[Indexed[...]]"  [typedredis-index]
        Compound("amount", "customer"),
        # E: "Order.amount" has no equality index, so it can only be the last field of a compound index;
        #   move it last, or annotate it as "amount: Sorted[Indexed[...]]"  [typedredis-index]
        Compound("status", "amount", "placed"),
        Compound("status", "customer", "placed"),
    )
