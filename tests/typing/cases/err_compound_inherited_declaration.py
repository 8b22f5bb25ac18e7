"""A subclass inherits ``__indexes__``: re-declaring a field it uses without the index breaks it."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (Compound("customer", "amount"), Compound("status", "customer", name="by_status"))


class Draft(Order):
    # E: "Draft.customer" is not indexed, but the compound index "customer_amount" inherited from "Order" uses it;
    #   annotate it as "customer: Indexed[...]", or redeclare __indexes__  [typedredis-index]
    # E: "Draft.customer" is not indexed, but the compound index "by_status" inherited from "Order" uses it;
    #   annotate it as "customer: Indexed[...]" or "customer: Sorted[...]", or redeclare __indexes__  [typedredis-index]
    customer: str = ""


class Archived(Order):
    # E: "Archived.customer" has no equality index, but the compound index "customer_amount" inherited from "Order"
    #   needs one for it; annotate it as "customer: Sorted[Indexed[...]]", or redeclare __indexes__  [typedredis-index]
    customer: Sorted[str] = ""


class Imported(Archived):
    """Inherits Archived's fields (reported there) and Order's ``__indexes__``: nothing new to report."""

    status: Indexed[str] = "imported"


class Estimate(Order):
    # E: "Estimate.amount" is not indexed, but the compound index "customer_amount" inherited from "Order" uses it;
    #   annotate it as "amount: Indexed[...]" or "amount: Sorted[...]", or redeclare __indexes__  [typedredis-index]
    amount: int = 0
