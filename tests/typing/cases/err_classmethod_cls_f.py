"""``cls.f`` inside a classmethod is checked like ``Model.f``."""

from typedredis import Indexed, Model


class Account(Model):
    login: Indexed[str]
    notes: str = ""

    @classmethod
    def by_login(cls, login: int) -> None:
        cls.query(cls.f.login == login)  # E: Field "Account.login" holds "str" values; cannot compare it with "int"  [typedredis-value]
        # E: "Account.notes" is not indexed; annotate it as "notes: Indexed[...]" to query it  [typedredis-index]
        cls.query(cls.f.notes == "x")
