"""An inherited field keeps its value type."""

from models import Admin

expr = Admin.f.age == "3"  # E: Field "Admin.age" holds "int" values; cannot compare it with "str"  [typedredis-value]
