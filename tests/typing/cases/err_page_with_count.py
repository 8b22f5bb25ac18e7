"""``page_with_count()`` is a named tuple of two: every checker sees its fields' types."""

from models import User

counted = User.query(User.f.name == "ann").page_with_count()
items, total, more = counted  # E[all]: Need more than 2 values to unpack (3 expected)  [misc]
label: str = counted.total  # E[all]: Incompatible types in assignment (expression has type "int", variable has type "str")  [assignment]
first: User = counted.items  # E[all]: Incompatible types in assignment (expression has type "list[User]", variable has type "User")  [assignment]
