"""Generic models: a value of the wrong type for the parametrized field."""

from models import IntBox

expr = IntBox.f.item == "x"  # E: Field "IntBox.item" holds "int" values; cannot compare it with "str"  [typedredis-value]
