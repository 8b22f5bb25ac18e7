"""Compound indexes over inherited fields: the base's fields and their index kinds count."""

from typing import Any, ClassVar

from models import Guest, User
from typedredis import Compound, Indexed, Model, Sorted


class Customer(User):
    spent: Sorted[int] = 0
    __indexes__: ClassVar[Any] = (
        # E: "Customer.bio" is not indexed; annotate it as "bio: Indexed[...]" to use it in a compound index  [typedredis-index]
        Compound("bio", "spent"),
        Compound("nmae", "spent"),  # E: "Customer" has no field "nmae"; maybe "name"?  [typedredis-field]
        Compound("name", "spent"),
    )


class Visitor(Guest):
    """Guest re-declares User's ``name`` without the index."""

    seen: Sorted[int] = 0
    # E: "Visitor.name" is not indexed; annotate it as "name: Indexed[...]" to use it in a compound index  [typedredis-index]
    __indexes__ = (Compound("name", "seen"),)


class Shop(Model):
    region: Indexed[str]
    opened: Sorted[int]


class Branch(Shop):
    city: Indexed[str] = ""
    __indexes__ = (
        Compound("city", "region", "opened"),
        Compound("opened", "city"),  # E: "Branch.opened" has no equality index, so it can only be the last field of a compound index; move it last, or annotate it as "opened: Sorted[Indexed[...]]"  [typedredis-index]
    )
