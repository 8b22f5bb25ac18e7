"""A twin is a coroutine function: its result is a coroutine until awaited, and every checker
says so where it is used (or dropped)."""

from typing import reveal_type

from models import User


async def forgot() -> None:
    query = User.query(User.f.name == "ann")
    user = await reveal_type(User.aget(1))  # N[all]: Revealed type is "typing.Coroutine[Any, Any, models.User]"
    reveal_type(user)  # N[all]: Revealed type is "models.User"
    # E[all]: Value of type "Coroutine[Any, Any, list[User]]" must be used  [unused-coroutine]
    # N[all]: Are you missing an await?
    query.aall()
    # E[all]: Value of type "Coroutine[Any, Any, User]" must be used  [unused-coroutine]
    # N[all]: Are you missing an await?
    User(name="x").asave()
    # E[all]: Incompatible types in assignment (expression has type "Coroutine[Any, Any, User | None]", variable has type "User | None")  [assignment]
    # N[all]: Maybe you forgot to use "await"?
    first: User | None = query.afirst()
    # E[all]: "Coroutine[Any, Any, int]" has no attribute "bit_length"  [attr-defined]
    # N[all]: Maybe you forgot to use "await"?
    query.acount().bit_length()
    # E[all]: "AsyncIterator[User]" has no attribute "__iter__"; maybe "__aiter__"? (not iterable)  [attr-defined]
    for row in query.aiter():
        pass
