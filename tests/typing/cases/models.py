"""Models shared by the typing cases (the cases import them: models and queries in two modules)."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field as PydanticField

import typedredis
from typedredis import EQ, RANGE, UNIQUE, Indexed, Model, Sorted, Unique

T = TypeVar("T")


class User(Model):
    name: Indexed[str]
    age: Indexed[int] = 0
    email: Annotated[str, EQ] = ""
    nick: Indexed[str | None] = None
    status: Indexed[Literal["active", "banned"]] = "active"
    code: Annotated[Indexed[str], PydanticField(max_length=8)] = "x"
    team: typedredis.Indexed[int] = 0
    bio: str = ""
    maybe: Indexed[str] | None = None


class Post(Model, key="posts"):
    title: Indexed[str]
    author_id: Indexed[int] = 0
    body: str = ""


class Admin(User):
    """Inherits every field of User and adds one."""

    level: Indexed[int] = 0


class Guest(User):
    """Re-declares ``name`` without the index."""

    name: str


class Member(Guest):
    """Indexes ``name`` again."""

    name: Indexed[str]


class Box(Model, Generic[T]):
    item: Indexed[T]


class IntBox(Box[int]):
    pass


class Event(Model):
    """Range and unique indexes, and the ways of combining markers on one field."""

    kind: Indexed[str]
    at: Sorted[datetime]
    size: Sorted[int]
    title: Sorted[str]
    slug: Unique[str]
    price: Sorted[Decimal | None] = None
    code: Annotated[str, UNIQUE, RANGE] = ""
    rank: Sorted[Indexed[int]] = 0
    label: Annotated[typedredis.Sorted[str | None], UNIQUE] = None
    note: str = ""


class Launch(Event):
    """Inherits the range indexes of Event and adds one."""

    pad: Sorted[int] = 0


class Article(Model):
    """Another model with a range index."""

    published: Sorted[datetime]


class SortedBox(Model, Generic[T]):
    item: Sorted[T]


class IntSortedBox(SortedBox[int]):
    pass
