"""A field that does not exist: the error names the model and the field."""

from models import User

expr = User.f.nonexistent == "x"  # E: "User" has no field "nonexistent"  [typedredis-field]
