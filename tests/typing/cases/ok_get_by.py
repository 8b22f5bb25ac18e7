"""``get_by`` returns the model; its value has the field's type."""

from typing import reveal_type

from models import Event, Launch

reveal_type(Event.get_by(Event.f.slug, "launch"))  # N[all]: Revealed type is "models.Event"
reveal_type(Launch.get_by(Launch.f.slug, "x"))  # N[all]: Revealed type is "models.Launch"
Event.get_by(Event.f.size, 3)  # any indexed field works (the match with the lowest pk)
Event.get_by(Event.f.price, None)
