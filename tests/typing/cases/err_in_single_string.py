"""``in_("ab")`` is a runtime error (a single string, not a collection): caught here."""

from models import User

expr = User.f.name.in_("ab")  # E: in_() takes a collection of values, not a single "str"  [typedredis-value]
