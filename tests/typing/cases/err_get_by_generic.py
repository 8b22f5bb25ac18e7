"""``cls.get_by`` / ``model.get_by`` on ``type[M]``: mypy names no method there for a plugin hook,
so a wrong value is mypy's own inference error (still an error, without the plugin's code)."""

from typing import Self, TypeVar

from models import Event
from typedredis import Model, Unique

E = TypeVar("E", bound=Event)


class Account(Model):
    login: Unique[str]

    @classmethod
    def by_login(cls, login: str) -> Self:
        # E[mypy>=1.18]: Cannot infer value of type parameter "T" of "get_by" of "Model"  [misc]
        # E[mypy<1.18]: Cannot infer type argument 1 of "get_by" of "Model"  [misc]
        cls.get_by(cls.f.login, 3)
        return cls.get_by(cls.f.login, login)


def by_slug(model: type[E], slug: str) -> E:
    # E[mypy>=1.18]: Cannot infer value of type parameter "T" of "get_by" of "Model"  [misc]
    # E[mypy<1.18]: Cannot infer type argument 1 of "get_by" of "Model"  [misc]
    model.get_by(model.f.slug, 3)
    return model.get_by(model.f.slug, slug)
