"""``Query.page_with_count()``: a ``Counted[M]`` named tuple of the page and the total."""

from typing import TypeVar, reveal_type

from models import Admin, User
from typedredis import Counted, Model

M = TypeVar("M", bound=Model)

counted = User.query(User.f.name == "ann").limit(20).page_with_count()
# N[all]: Revealed type is "tuple[list[models.User], int, fallback=typedredis.query.Counted[models.User]]"
reveal_type(counted)
items, total = User.query(User.f.name == "ann").page_with_count()
reveal_type(items)  # N[all]: Revealed type is "list[models.User]"
reveal_type(total)  # N[all]: Revealed type is "int"
reveal_type(counted.items)  # N[all]: Revealed type is "list[models.User]"
reveal_type(counted.total)  # N[all]: Revealed type is "int"
reveal_type(Admin.query(Admin.f.level == 1).page_with_count().items[0])  # N[all]: Revealed type is "models.Admin"


def first_page(model: type[M]) -> Counted[M]:
    page = model.query().limit(10).page_with_count()
    reveal_type(page.items)  # N[all]: Revealed type is "list[M]"
    return page
