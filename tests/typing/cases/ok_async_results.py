"""The asyncio twins return what their sync methods return, once awaited."""

from typing import TypeVar, reveal_type

from models import Admin, User
from typedredis import Counted, Model

M = TypeVar("M", bound=Model)


async def model_twins() -> None:
    reveal_type(await User.aget(1))  # N[all]: Revealed type is "models.User"
    reveal_type(await User.aget_many([1, 2]))  # N[all]: Revealed type is "list[models.User | None]"
    reveal_type(await User.aget_by(User.f.email, "x"))  # N[all]: Revealed type is "models.User"
    reveal_type(await Admin.aget(1))  # N[all]: Revealed type is "models.Admin"
    user = User(name="ann")
    reveal_type(await user.asave())  # N[all]: Revealed type is "models.User"
    reveal_type(await user.ainsert())  # N[all]: Revealed type is "models.User"
    reveal_type(await user.adelete())  # N[all]: Revealed type is "bool"
    reveal_type(await Admin(name="root").asave())  # N[all]: Revealed type is "models.Admin"
    await User.asave_all([user])
    await User.ainsert_all([user, User(name="bob")])
    reveal_type(await User.adelete_many([1, 2]))  # N[all]: Revealed type is "int"


async def query_twins() -> None:
    query = User.query(User.f.name == "ann")
    reveal_type(await query.aall())  # N[all]: Revealed type is "list[models.User]"
    reveal_type(await query.afirst())  # N[all]: Revealed type is "models.User | None"
    reveal_type(await query.acount())  # N[all]: Revealed type is "int"
    reveal_type(await query.aexists())  # N[all]: Revealed type is "bool"
    reveal_type(await query.apks())  # N[all]: Revealed type is "list[int]"
    reveal_type(await query.adelete())  # N[all]: Revealed type is "int"
    reveal_type(await query.aupdate(age=3, bio="x"))  # N[all]: Revealed type is "int"
    reveal_type(await query.aplan("count"))  # N[all]: Revealed type is "dict[str, Any]"
    counted = await query.limit(20).apage_with_count()
    # N[all]: Revealed type is "tuple[list[models.User], int, fallback=typedredis.query.Counted[models.User]]"
    reveal_type(counted)
    items, total = await query.apage_with_count()
    reveal_type(items)  # N[all]: Revealed type is "list[models.User]"
    reveal_type(total)  # N[all]: Revealed type is "int"
    reveal_type(await Admin.query(Admin.f.level == 1).aall())  # N[all]: Revealed type is "list[models.Admin]"


async def first_page(model: type[M]) -> Counted[M]:
    page = await model.query().limit(10).apage_with_count()
    reveal_type(page.items)  # N[all]: Revealed type is "list[M]"
    reveal_type(await model.aget(1))  # N[all]: Revealed type is "M"
    return page
