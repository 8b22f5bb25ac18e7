"""A field without any index cannot be part of a compound index, in any position."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    amount: Sorted[int]
    note: str = ""
    tag: Indexed[str] | None = None
    __indexes__: ClassVar[Any] = (
        # E: "Order.note" is not indexed; annotate it as "note: Indexed[...]" to use it in a compound index  [typedredis-index]
        Compound("note", "amount"),
        # E: "Order.note" is not indexed; annotate it as "note: Indexed[...]" or "note: Sorted[...]"
        #   to use it in a compound index  [typedredis-index]
        Compound("customer", "note"),
        # E: "Order.tag" is not indexed; annotate it as "tag: Indexed[...]" to use it in a compound index  [typedredis-index]
        # N: Only an outermost marker indexes a field: write "tag: Indexed[X | None]"
        Compound("tag", "amount"),
    )
