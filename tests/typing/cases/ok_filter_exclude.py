"""``filter()`` and ``exclude()`` take expressions of the query's model."""

from typing import reveal_type

from models import User

query = User.query().filter(User.f.age == 1).exclude(User.f.name == "x")
reveal_type(query.all())  # N[all]: Revealed type is "list[models.User]"
