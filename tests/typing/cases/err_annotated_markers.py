"""Fields indexed through ``Annotated`` are checked like ``Indexed`` ones."""

from models import User

email = User.f.email == 1  # E: Field "User.email" holds "str" values; cannot compare it with "int"  [typedredis-value]
team = User.f.team == "1"  # E: Field "User.team" holds "int" values; cannot compare it with "str"  [typedredis-value]
