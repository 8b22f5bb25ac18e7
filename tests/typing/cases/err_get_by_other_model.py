"""``get_by`` takes a field of its own model."""

from models import Event, User

# E: Argument 1 to "get_by" of "Model" has incompatible type "Field[User, str]"; expected "Field[Event, str]"  [arg-type]
# E[plain]: Argument 1 to "get_by" of "Model" has incompatible type "SortedField[User, Any]"; expected "Field[Event, Any]"  [arg-type]
a = Event.get_by(User.f.name, "x")
