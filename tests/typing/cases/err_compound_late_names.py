"""Names bound later in the module (here the markers): the fields are read once they are known,
so only the real mistake is reported (no field is taken for unindexed on an early pass)."""

from __future__ import annotations

from typing import Any, ClassVar

from typedredis import Compound, Model


class Base(Model):
    owner: Indexed[str]
    note: str = ""


class Sub(Base):
    amount: Sorted[int] = 0
    __indexes__: ClassVar[Any] = (
        Compound("owner", "amount"),
        # E: "Sub.note" is not indexed; annotate it as "note: Indexed[...]" to use it in a compound index  [typedredis-index]
        Compound("note", "amount"),
    )


expr = Sub.f.owner == "x"

from typedredis import Indexed, Sorted  # noqa: E402
