"""A base model's ``Sorted`` field orders a subclass's query (like ``Expr``, by contravariance)."""

from typing import reveal_type

from models import Event, Launch

reveal_type(Launch.query().order_by(Event.f.at).all())  # N[all]: Revealed type is "list[models.Launch]"
Launch.query().order_by(Event.f.size.desc()).order_by(Launch.f.pad)
Launch.objects.order_by(Launch.f.at.asc())
