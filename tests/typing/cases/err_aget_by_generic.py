"""``cls.aget_by`` / ``model.aget_by`` on ``type[M]``: as with ``get_by``, mypy names no method
there for a plugin hook, so a wrong value is mypy's own inference error."""

from typing import Self, TypeVar

from models import Event
from typedredis import Model, Unique

E = TypeVar("E", bound=Event)


class Account(Model):
    login: Unique[str]

    @classmethod
    async def by_login(cls, login: str) -> Self:
        # E[mypy>=1.18]: Cannot infer value of type parameter "T" of "aget_by" of "Model"  [misc]
        # E[mypy<1.18]: Cannot infer type argument 1 of "aget_by" of "Model"  [misc]
        await cls.aget_by(cls.f.login, 3)
        return await cls.aget_by(cls.f.login, login)


async def by_slug(model: type[E], slug: str) -> E:
    # E[mypy>=1.18]: Cannot infer value of type parameter "T" of "aget_by" of "Model"  [misc]
    # E[mypy<1.18]: Cannot infer type argument 1 of "aget_by" of "Model"  [misc]
    await model.aget_by(model.f.slug, 3)
    return await model.aget_by(model.f.slug, slug)
