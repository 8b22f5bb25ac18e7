"""``== None`` on a field that is not optional.

With mypy 1.17 and later a failed ``field == None`` falls back to ``None.__eq__(field)``, which no
plugin hook can refuse: the comparison is a ``bool``, rejected where it is used. mypy 1.15 and 1.16
report it at the comparison.
"""

from models import User

# E[mypy<1.17]: Field "User.name" holds "str" values; cannot compare it with "None"  [typedredis-value]
# E[mypy>=1.17]: Argument 1 to "query" of "Model" has incompatible type "bool"; expected "Expr[User]"  [arg-type]
User.query(User.f.name == None)
