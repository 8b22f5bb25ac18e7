"""Models shared by the typing cases (the cases import them: models and queries in two modules)."""

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import Field as PydanticField

import typedredis
from typedredis import EQ, Indexed, Model

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
