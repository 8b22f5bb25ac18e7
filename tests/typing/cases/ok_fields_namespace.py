"""``Model.f`` is ``Fields[Model]`` with and without the plugin."""

from typing import reveal_type

from models import User

reveal_type(User.f)  # N[all]: Revealed type is "typedredis.expr.Fields[models.User]"
reveal_type(User.f.name)  # N: Revealed type is "typedredis.expr.Field[models.User, str]"  # N[plain]: Revealed type is "typedredis.expr.SortedField[models.User, Any]"
