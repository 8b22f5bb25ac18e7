"""``areset`` streams the new dataset from an iterable or an async iterable of the model."""

from collections.abc import AsyncIterator, Iterator

from models import Admin, User


async def users() -> AsyncIterator[User]:
    yield User(name="ann")


async def admins() -> AsyncIterator[Admin]:
    yield Admin(name="root")


def sync_users() -> Iterator[User]:
    yield User(name="bob")


async def replace() -> None:
    await User.areset([User(name="ann"), User(name="bob")])
    await User.areset(users())
    await User.areset(sync_users())
    await User.areset(User(name=n) for n in ("ann", "bob"))
    await User.areset(admins())  # an Admin is a User
    await User.areset([])
    User.reset([User(name="ann")])
