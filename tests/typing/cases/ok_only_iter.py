"""Projections are tuples of the fields' types; ``iter`` streams the model."""

from typing import reveal_type

from models import Event

query = Event.query(Event.f.size > 3)
# N: Revealed type is "list[tuple[str, datetime.datetime]]"
# N[plain]: Revealed type is "list[tuple[Any, Any]]"
reveal_type(query.only(Event.f.title, Event.f.at).all())
reveal_type(query.only(Event.f.slug).first())  # N: Revealed type is "tuple[str] | None"
reveal_type(query.iter(batch=100))  # N[all]: Revealed type is "typing.Iterator[models.Event]"
for title, size in query.only(Event.f.title, Event.f.size).iter():
    reveal_type(size)  # N: Revealed type is "int"
