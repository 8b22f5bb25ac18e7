"""Models used by the type-checking examples."""

from typedredis import Indexed, Model


class User(Model):
    name: Indexed[str]
    email: Indexed[str | None] = None
    age: Indexed[int] = 0
    bio: str = ""  # stored, but not indexed


class Post(Model):
    title: Indexed[str]
    author_id: Indexed[int]
