"""The models module of the incremental-cache scenario (the test edits one index marker)."""

from typedredis import Indexed, Model


class User(Model):
    name: Indexed[str]
    bio: str = ""
