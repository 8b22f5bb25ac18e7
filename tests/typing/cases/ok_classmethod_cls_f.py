"""A classmethod using ``cls.f`` works on the class and its subclasses."""

from typing import Self, reveal_type

from typedredis import Indexed, Model


class Account(Model):
    login: Indexed[str]

    @classmethod
    def by_login(cls, login: str) -> list[Self]:
        reveal_type(cls.f.login)  # N: Revealed type is "typedredis.expr.Field[Self, str]"
        return cls.query(cls.f.login == login).all()


class Staff(Account):
    pass


reveal_type(Staff.by_login("x"))  # N[all]: Revealed type is "list[ok_classmethod_cls_f.Staff]"
