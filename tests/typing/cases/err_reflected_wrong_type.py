"""Reflected comparisons are checked too (mypy would fall back to ``int.__eq__``)."""

from models import User

expr = 3 == User.f.name  # E: Field "User.name" holds "str" values; cannot compare it with "int"  [typedredis-value]
