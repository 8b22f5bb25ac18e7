"""Compound indexes declared correctly: annotated or not, tuple or list, with name=, any marker spelling."""

from typing import Annotated, Any, ClassVar

import typedredis
from typedredis import EQ, RANGE, UNIQUE, Compound, Indexed, Model, Sorted, Unique


class Order(Model):
    customer: Indexed[str]
    status: Indexed[str]
    amount: Sorted[int]
    note: str = ""
    __indexes__: ClassVar[Any] = (Compound("customer", "amount"), Compound("status", "amount", name="by_status"))


class Invoice(Model):
    """Unannotated; Unique and Annotated markers; three fields; a named equality compound."""

    customer: Unique[str]
    region: Annotated[str, EQ]
    due: Annotated[int, RANGE]
    code: Annotated[str, UNIQUE, RANGE] = ""
    __indexes__ = (
        Compound("customer", "due"),
        Compound("region", "customer", "due", name="by_region"),
        Compound("region", "code", name="region_code"),
        Compound("code", "region", name="code_first"),
    )


class Ticket(Model):
    """A list; a field both sorted and indexed may come first; a qualified Compound."""

    queue: Indexed[str]
    priority: Sorted[Indexed[int]]
    owner: Indexed[str | None] = None
    __indexes__ = [Compound("queue", "owner"), typedredis.Compound("priority", "queue", "owner", name=None)]


class Plain(Model):
    """An empty declaration is fine."""

    x: Indexed[int]
    __indexes__: ClassVar[tuple[Compound, ...]] = ()
