"""``areset`` takes objects of its own model, from an iterable or an async iterable."""

from collections.abc import AsyncIterator

from models import Admin, Post, User


async def posts() -> AsyncIterator[Post]:
    yield Post(title="x")


async def users() -> AsyncIterator[User]:
    yield User(name="ann")


async def replace() -> None:
    # E[all]: Argument 1 to "areset" of "Model" has incompatible type "AsyncIterator[Post]"; expected "Iterable[User] | AsyncIterable[User]"  [arg-type]
    await User.areset(posts())
    # E[all]: Argument 1 to "areset" of "Model" has incompatible type "AsyncIterator[User]"; expected "Iterable[Admin] | AsyncIterable[Admin]"  [arg-type]
    await Admin.areset(users())
    # E[all]: List item 0 has incompatible type "Post"; expected "User"  [list-item]
    await User.areset([Post(title="x")])
    # E[all]: Argument 1 to "reset" of "Model" has incompatible type "AsyncIterator[User]"; expected "Iterable[User]"  [arg-type]
    User.reset(users())
