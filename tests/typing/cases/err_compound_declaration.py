"""What else the runtime refuses in ``__indexes__``: too few or repeated fields, bad or shared names,
entries that are not ``Compound(...)``, and a single ``Compound`` without the tuple's comma."""

from typing import Any, ClassVar

from typedredis import Compound, Indexed, Model, Sorted


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    __indexes__: ClassVar[Any] = (
        # E: A compound index of "Order" needs two or more fields;
        #   a single field needs only its own "Indexed[...]" or "Sorted[...]"  [typedredis-index]
        Compound("customer"),
        # E: "Order.customer" appears twice in a compound index; a compound index needs distinct fields  [typedredis-index]
        Compound("customer", "customer", "amount"),
        # E: Compound index "by status" of "Order": its name must be an identifier
        #   (letters, digits and "_", not a digit first)  [typedredis-index]
        Compound("status", "amount", name="by status"),
        Compound("customer", "amount"),
        # E: Two compound indexes of "Order" are named "customer_amount";
        #   give one of them another with name="..."  [typedredis-index]
        Compound("customer", "status", "amount", name="customer_amount"),
        # E: "Order.__indexes__" must hold Compound(...) entries, not a tuple;
        #   write Compound("status", "amount")  [typedredis-index]
        ("status", "amount"),
    )


class Invoice(Model):
    customer: Indexed[str]
    due: Sorted[int]
    # E: "Invoice.__indexes__" must be a tuple or list of Compound(...) entries;
    #   add a comma: "(Compound(...),)"  [typedredis-index]
    __indexes__: ClassVar[Any] = (Compound("customer", "due"))


class Ticket(Model):
    queue: Indexed[str]
    opened: Sorted[int]
    __indexes__ = ["queue", "opened"]  # E: "Ticket.__indexes__" must hold Compound(...) entries, not a string  [typedredis-index]
