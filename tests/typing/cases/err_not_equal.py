"""``!=`` checks values in both operand orders."""

from models import User

forward = User.f.age != "3"  # E: Field "User.age" holds "int" values; cannot compare it with "str"  [typedredis-value]
reflected = "3" != User.f.age  # E: Field "User.age" holds "int" values; cannot compare it with "str"  [typedredis-value]
