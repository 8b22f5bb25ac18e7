"""Equality fields have no ordering operators (mypy reports the reflected ``str > field``)."""

from models import User

# E: Unsupported operand types for > ("str" and "Field[User, str]")  [operator]
# E[plain]: Unsupported operand types for > ("str" and "Field[User, Any]")  [operator]
expr = User.f.name < "x"
