"""``aget_by`` checks its value against the field (plain mypy does not), as ``get_by`` does."""

from models import Event


async def look_up() -> None:
    # E: Field "Event.slug" holds "str" values; aget_by() got "int"  [typedredis-value]
    a = await Event.aget_by(Event.f.slug, 3)
    # E: Field "Event.at" holds "datetime" values; aget_by() got "str"  [typedredis-value]
    b = await Event.aget_by(Event.f.at, "2026-01-01")
    # E: Field "Event.size" holds "int" values; aget_by() got "None"  [typedredis-value]
    c = await Event.aget_by(Event.f.size, None)
    # E: "Event.note" is not indexed; annotate it as "note: Indexed[...]" to query it  [typedredis-index]
    d = await Event.aget_by(Event.f.note, "x")
    # E: "Event" has no field "slgu"  [typedredis-field]
    e = await Event.aget_by(Event.f.slgu, "x")
