"""The reflected order (``"x" < field``) is checked too."""

from models import Event

# E: Field "Event.size" holds "int" values; cannot compare it with "str"  [typedredis-value]
a = "x" < Event.f.size  # noqa: SIM300
# E: Field "Event.title" holds "str" values; cannot compare it with "int"  [typedredis-value]
b = 3 >= Event.f.title  # noqa: SIM300


def bounded(limit: int | None) -> None:
    # E: Field "Event.size" holds "int" values; cannot compare it with "None"  [typedredis-value]
    # N: Left operand is of type "int | None"
    Event.query(limit < Event.f.size)  # noqa: SIM300
