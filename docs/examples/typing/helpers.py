"""Classmethods and generic helpers keep the precise model type."""

from typing import Self, TypeVar, reveal_type

from typedredis import Indexed, Model


class Named(Model):
    name: Indexed[str]

    @classmethod
    def named(cls, name: str) -> list[Self]:
        return cls.query(cls.f.name == name).all()


class Author(Named):
    books: int = 0


M = TypeVar("M", bound=Named)


def first_named(model: type[M], name: str) -> M | None:
    return model.query(model.f.name == name).first()


reveal_type(Author.named("ann"))  # note: Revealed type is "list[helpers.Author]"
reveal_type(first_named(Author, "ann"))  # note: Revealed type is "helpers.Author | None"
