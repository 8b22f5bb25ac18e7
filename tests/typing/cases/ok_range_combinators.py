"""Range and equality expressions combine with ``&``, ``|`` and ``~``, in helpers too."""

from typing import Self, TypeVar, reveal_type

from models import Event, Launch
from typedredis import Indexed, Model, Sorted

E = TypeVar("E", bound=Event)

expr = (Event.f.size > 3) & ~(Event.f.kind == "x") | Event.f.title.startswith("A")
reveal_type(expr)  # N[all]: Revealed type is "typedredis.expr.Expr[models.Event]"


def big(model: type[E], size: int) -> list[E]:
    reveal_type(model.f.size)  # N: Revealed type is "typedredis.expr.SortedField[E, int]"
    return model.query(model.f.size >= size).order_by(model.f.size.desc()).all()


class Score(Model):
    player: Indexed[str]
    points: Sorted[int]

    @classmethod
    def top(cls, n: int) -> list[Self]:
        return cls.query(cls.f.points > 0).order_by(cls.f.points.desc()).limit(n).all()


reveal_type(big(Launch, 3))  # N[all]: Revealed type is "list[models.Launch]"
