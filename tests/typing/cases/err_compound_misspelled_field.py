"""A misspelled field name in a compound index: the error suggests the field meant."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (
        Compound("custmer", "amount"),  # E: "Order" has no field "custmer"; maybe "customer"?  [typedredis-field]
        Compound("status", "amont", name="by_status"),  # E: "Order" has no field "amont"; maybe "amount"?  [typedredis-field]
    )
