"""Results keep the model type."""

from typing import reveal_type

from models import User

query = User.query(User.f.name == "bob")
reveal_type(query)  # N[all]: Revealed type is "typedredis.query.Query[models.User]"
reveal_type(query.all())  # N[all]: Revealed type is "list[models.User]"
reveal_type(query.first())  # N[all]: Revealed type is "models.User | None"
reveal_type(User.get(1))  # N[all]: Revealed type is "models.User"
reveal_type(User.get_many([1, 2]))  # N[all]: Revealed type is "list[models.User | None]"
reveal_type(query.count())  # N[all]: Revealed type is "int"
