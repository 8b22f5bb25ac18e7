"""Models used by the type-checking examples."""

from datetime import date, datetime

from typedredis import Indexed, Model, Sorted, Unique


class User(Model):
    name: Indexed[str]
    email: Indexed[str | None] = None
    age: Indexed[int] = 0
    bio: str = ""  # stored, but not indexed
    joined: Sorted[date] = date(2026, 1, 1)


class Post(Model):
    title: Indexed[str]
    author_id: Indexed[int]


class Event(Model):
    kind: Indexed[str]
    at: Sorted[datetime]  # range index: <, <=, >, >=, between, order_by
    size: Sorted[int]
    title: Sorted[str]  # a Sorted[str] also has startswith
    slug: Unique[str]  # unique, and an equality index
