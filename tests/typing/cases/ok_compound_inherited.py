"""Compound indexes over inherited fields, redeclared ``__indexes__``, and names that are not literals."""

from typing import Any, ClassVar, Final

from models import Admin, User
from typedredis import Compound, Indexed, Model, Sorted


class Customer(User):
    """Fields of a base model in another module."""

    spent: Sorted[int] = 0
    __indexes__: ClassVar[Any] = (Compound("name", "spent"), Compound("team", "status", "spent"))


class SuperAdmin(Admin):
    """Fields of a base of a base, and of the direct base."""

    since: Sorted[int] = 0
    __indexes__ = (Compound("level", "nick", "since"),)


class Shop(Model):
    region: Indexed[str]
    opened: Sorted[int]
    note: str = ""
    __indexes__: ClassVar[Any] = (Compound("region", "opened"),)


class BigShop(Shop):
    """Redeclares ``__indexes__``: the base's entries plus one over a field of its own."""

    chain: Indexed[str] = ""
    __indexes__: ClassVar[Any] = (*Shop.__indexes__, Compound("chain", "opened"))


class OldShop(Shop):
    """Un-indexes ``region`` and redeclares ``__indexes__`` without the compound that used it."""

    region: str = ""
    __indexes__: ClassVar[Any] = ()


class SmallShop(Shop):
    """Inherits ``__indexes__`` and re-indexes a field in another valid way."""

    region: Indexed[str] = "north"
    opened: Sorted[Indexed[int]] = 0


FIELD: Final = "region"
FIELDS = ("region", "opened")


class Kiosk(Shop):
    """Names that are not string literals are not checked (so never falsely reported)."""

    __indexes__: ClassVar[Any] = (Compound(FIELD, "opened"), Compound(*FIELDS, name="all"))
