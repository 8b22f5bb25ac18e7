"""``Indexed[str | None]`` compared with 3."""

from models import User

expr = User.f.nick == 3  # E: Field "User.nick" holds "str | None" values; cannot compare it with "int"  [typedredis-value]
