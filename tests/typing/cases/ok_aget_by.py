"""``aget_by`` returns the model once awaited; its value has the field's type, as with ``get_by``."""

from typing import reveal_type

from models import Event, Launch


async def look_up() -> None:
    reveal_type(await Event.aget_by(Event.f.slug, "launch"))  # N[all]: Revealed type is "models.Event"
    reveal_type(await Launch.aget_by(Launch.f.slug, "x"))  # N[all]: Revealed type is "models.Launch"
    await Event.aget_by(Event.f.size, 3)  # any indexed field works (the match with the lowest pk)
    await Event.aget_by(Event.f.price, None)
    await Event.aget_by(field=Event.f.slug, value="x")
