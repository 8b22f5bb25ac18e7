"""Mistakes in compound indexes, reported where the model is declared."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    note: str = ""
    __indexes__: ClassVar[Any] = (
        Compound("customer", "amount"),  # per customer, ordered by amount
        Compound("status", "amount", name="by_status"),  # per status, ordered by amount
        # error: "Order" has no field "custmer"; maybe "customer"?  [typedredis-field]
        Compound("custmer", "amount"),
        # error: "Order.amount" has no equality index, so it can only be the last field of a compound
        #        index; move it last, or annotate it as "amount: Sorted[Indexed[...]]"  [typedredis-index]
        Compound("amount", "status"),
        # error: "Order.note" is not indexed; annotate it as "note: Indexed[...]" or "note: Sorted[...]"
        #        to use it in a compound index  [typedredis-index]
        Compound("status", "note"),
    )


class Draft(Order):
    """Inherits Order's compound indexes, so it must keep the indexes they use."""

    # error: "Draft.customer" is not indexed, but the compound index "customer_amount" inherited from
    #        "Order" uses it; annotate it as "customer: Indexed[...]", or redeclare __indexes__  [typedredis-index]
    customer: str = ""
