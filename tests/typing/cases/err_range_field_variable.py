"""A ``Field`` held in a variable or a parameter has no range operations either."""

from models import User
from typedredis import Field

name = User.f.name
# E: "Field[User, str]" has no range index;
#    only a field declared "Sorted[...]" can use between()  [typedredis-index]
a = name.between("a", "b")


def older(age: Field[User, int]) -> None:
    # E: "Field[User, int]" has no range index;
    #    only a field declared "Sorted[...]" can use ">"  [typedredis-index]
    # E[plain]: Unsupported operand types for < ("int" and "Field[User, int]")  [operator]
    # E[plain]: Argument 1 to "query" of "Model" has incompatible type "bool"; expected "Expr[User]"  [arg-type]
    User.query(age > 3)
