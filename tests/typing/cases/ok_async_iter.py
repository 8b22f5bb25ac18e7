"""``async for`` over ``aiter()`` streams the model; a projection's twins give its tuples."""

from typing import reveal_type

from models import Admin, Event, User


async def stream() -> None:
    query = User.query(User.f.name == "ann")
    reveal_type(query.aiter(batch=10))  # N[all]: Revealed type is "typing.AsyncIterator[models.User]"
    async for user in query.aiter(batch=10):
        reveal_type(user)  # N[all]: Revealed type is "models.User"
    async for admin in Admin.query().aiter():
        reveal_type(admin)  # N[all]: Revealed type is "models.Admin"
    async for row in query.only(User.f.name, User.f.age).aiter():
        reveal_type(row)  # N: Revealed type is "tuple[str, int]"
    async for name, age in query.only(User.f.name, User.f.age).aiter(batch=100):
        reveal_type(age)  # N: Revealed type is "int"
    names = [name async for (name,) in query.only(User.f.name).aiter()]
    reveal_type(names)  # N: Revealed type is "list[str]"


async def projections() -> None:
    query = Event.query(Event.f.size > 3)
    # N: Revealed type is "list[tuple[str, datetime.datetime]]"
    # N[plain]: Revealed type is "list[tuple[Any, Any]]"
    reveal_type(await query.only(Event.f.title, Event.f.at).aall())
    # N: Revealed type is "tuple[str] | None"
    # N[plain]: Revealed type is "tuple[Any] | None"
    reveal_type(await query.only(Event.f.slug).afirst())
