"""A field has no attributes beyond its API."""

from models import User

value = User.f.name.nonexistent  # E: "Field[User, str]" has no attribute "nonexistent"  [attr-defined]  # E[plain]: "SortedField[User, Any]" has no attribute "nonexistent"  [attr-defined]
