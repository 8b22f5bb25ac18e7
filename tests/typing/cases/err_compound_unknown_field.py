"""A compound index over a name that is no field of the model (``pk`` is the key, not a field)."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (
        Compound("customer", "amount"),
        Compound("customer", "total"),  # E: "Order" has no field "total"  [typedredis-field]
        Compound("pk", "amount"),  # E: "Order" has no field "pk"  [typedredis-field]
    )


class Basket(Model):
    owner: Indexed[str]
    __indexes__ = [Compound("owner", "items_count")]  # E: "Basket" has no field "items_count"  [typedredis-field]
