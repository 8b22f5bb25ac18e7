"""``aget_by`` takes a field of its own model."""

from models import Admin, Event, User


async def look_up() -> None:
    # E: Argument 1 to "aget_by" of "Model" has incompatible type "Field[User, str]"; expected "Field[Event, str]"  [arg-type]
    # E[plain]: Argument 1 to "aget_by" of "Model" has incompatible type "SortedField[User, Any]"; expected "Field[Event, Any]"  [arg-type]
    a = await Event.aget_by(User.f.name, "x")
    # E: Argument 1 to "aget_by" of "Model" has incompatible type "Field[User, str]"; expected "Field[Admin, str]"  [arg-type]
    # E[plain]: Argument 1 to "aget_by" of "Model" has incompatible type "SortedField[User, Any]"; expected "Field[Admin, Any]"  [arg-type]
    b = await Admin.aget_by(User.f.name, "x")
