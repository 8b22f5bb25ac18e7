"""A subclass that redeclares ``__indexes__`` is checked against its own fields (inherited ones too)."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (Compound("customer", "amount"),)


class Refund(Order):
    reason: str = ""
    __indexes__: ClassVar[Any] = (
        *Order.__indexes__,
        # E: "Refund.reason" is not indexed; annotate it as "reason: Indexed[...]" or "reason: Sorted[...]"
        #   to use it in a compound index  [typedredis-index]
        Compound("customer", "reason"),
        Compound("customer", "refunded"),  # E: "Refund" has no field "refunded"  [typedredis-field]
    )


class Anonymous(Order):
    """Un-indexes ``customer`` and redeclares ``__indexes__``, but still uses it."""

    customer: str = ""
    # E: "Anonymous.customer" is not indexed; annotate it as "customer: Indexed[...]" to use it in a compound index  [typedredis-index]
    __indexes__: ClassVar[Any] = (Compound("customer", "amount", name="anonymous"),)
