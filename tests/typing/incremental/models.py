"""The models module of the incremental-cache scenario (the test edits index markers only)."""

from typedredis import Indexed, Model


class User(Model):
    name: Indexed[str]
    bio: str = ""
    age: Indexed[int] = 0
